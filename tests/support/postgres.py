"""The machine's PostgreSQL for the tests: its URL (scratch databases: devstack/postgres.py)."""

import os

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")


def postgres_server() -> str:
    """The URL of the machine's PostgreSQL; skips the test where there is none, except in CI."""
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI runs the PostgreSQL tests, but TEST_POSTGRES_URL is empty")
        pytest.skip("no PostgreSQL here (make test finds the machine's cluster)")
    return POSTGRES_URL
