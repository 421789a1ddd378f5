"""Workflow definitions: pure, deterministic orchestration of one order."""
