"""The machine's PostgreSQL for the tests: its URL (scratch databases: devstack/postgres.py)."""

import os

from tests.support.machine import required

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")


def postgres_server() -> str:
    """The URL of the machine's PostgreSQL; skips the test where there is none, except in CI."""
    return required(
        POSTGRES_URL,
        "CI runs the PostgreSQL tests, but TEST_POSTGRES_URL is empty",
        "no PostgreSQL here (make test finds the machine's cluster)",
    )
