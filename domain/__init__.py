"""Shared vocabulary: orders, statuses, reports, identifiers. Standard library only."""
