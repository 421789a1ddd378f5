"""Scratch databases on the machine's PostgreSQL, for the tests and the benchmark."""

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from store.engine import create_db_engine

_SCRATCH_PREFIX = "notifications_scratch_"


@contextlib.contextmanager
def scratch_postgres_database(server_url: str) -> Iterator[str]:
    """An empty database on the server of `server_url`, dropped afterwards.

    Its name carries this process's id, so databases left by runs that were killed are
    dropped by the next run, and concurrent runs on one machine never share one.
    """
    admin = create_db_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"{_SCRATCH_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            _drop_orphans(connection)
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _drop_orphans(connection: Any) -> None:
    names = connection.execute(
        text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
        {"prefix": f"{_SCRATCH_PREFIX}%"},
    ).scalars()
    for name in list(names):
        pid = int(name.removeprefix(_SCRATCH_PREFIX).split("_")[0])
        if not _alive(pid):
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
