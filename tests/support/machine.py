"""What the tests need of the machine: where it is missing the test is skipped, except in CI,
which must run everything and fails instead."""

import os
import shutil

import pytest


def required(found: str | None, in_ci: str, elsewhere: str) -> str:
    """`found`; where it is empty, the test fails in CI saying `in_ci`, else is skipped saying
    `elsewhere`."""
    if not found:
        if os.environ.get("CI"):
            pytest.fail(in_ci)
        pytest.skip(elsewhere)
    return found


def installed(command: str, product: str, tests: str) -> str:
    """The path of `command`: as `make test` names it in `TEST_<COMMAND>` after
    `scripts/test-<command>.sh` installed it, or as the system has it."""
    found = os.environ.get(f"TEST_{command.upper()}") or shutil.which(
        command, path="/usr/sbin:/usr/bin"
    )
    return required(
        found,
        f"CI runs the {tests} tests, but {product} is not installed",
        f"no {product} here (make test installs it: scripts/test-{command}.sh)",
    )
