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


def system_command(name: str, variable: str) -> str | None:
    """The command `make test` named in `variable`, or the system's own one."""
    return os.environ.get(variable) or shutil.which(name, path="/usr/sbin:/usr/bin")
