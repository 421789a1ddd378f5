"""The one database engine factory: SQLite for local use, PostgreSQL in production."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine

P = ParamSpec("P")
T = TypeVar("T")
# Seconds for which a pooled connection used without error is taken to be alive still.
TRUSTED_FOR = 1.0
# How long a SQLite writer waits for another's lock, unless a write bounds it (`within`).
_SQLITE_BUSY_MS = 30000
_CHECKED_IN = "checked_in"
CONNECT_TIMEOUT_SECONDS = 5


def create_db_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # Last in, first out: the connections in use stay few and recently used, which spares
        # them the ping (_ping_if_idle) and lets the others idle.
        engine = create_engine(
            url,
            pool_size=10,
            max_overflow=20,
            pool_use_lifo=True,
            hide_parameters=True,
            # A server that drops packets fails a new connection in seconds, not at the
            # operating system's TCP timeout (minutes), holding a thread all the while.
            connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
        )
        event.listen(engine.pool, "checkin", _note_checkin)
        event.listen(engine.pool, "checkout", partial(_ping_if_idle, engine.dialect))
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def committed(
    engine: Engine, write: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """One store write in a transaction of its own."""
    with Session(engine) as session:
        result = write(session, *args, **kwargs)
        session.commit()
    return result


def committed_within(
    engine: Engine,
    by: datetime,
    write: Callable[Concatenate[Session, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`committed`, failing rather than ending after `by` (`within`)."""
    with Session(engine) as session:
        with within(session.connection(), by):
            result = write(session, *args, **kwargs)
        session.commit()
    return result


@contextmanager
def autocommitted(engine: Engine) -> Iterator[Connection]:
    """A connection whose every statement is a transaction of its own: for one-statement
    writes and server-side calls, without the round trips of BEGIN and COMMIT."""
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


class WriteOutlasted(Exception):
    """A bounded write (`within`) took longer than its bound, and was rolled back."""


@contextmanager
def within(connection: Connection, by: datetime) -> Iterator[None]:
    """The transaction's work inside it ends by `by`, or fails and is not committed: each lock
    wait is bounded (SQLite's busy_timeout, PostgreSQL's lock_timeout), and leaving it later
    raises WriteOutlasted, for the caller's session to roll back. For a write whose caller
    stops waiting for it: its thread goes on, and must not commit later. A time, not a
    duration, so that the wait for a thread and a connection counts too. Leave it before the
    commit, which releases the connection (a write holds SQLite's one writer's lock by then, so
    the commit itself waits for none)."""
    seconds = seconds_until(by)
    ends = time.monotonic() + seconds
    wait_ms = max(1, int(seconds * 1000))  # 0 would mean no bound on PostgreSQL
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")
        yield
    else:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {wait_ms}")
        try:
            yield
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")
    if time.monotonic() > ends:
        raise WriteOutlasted(f"a write bounded to {seconds:.3f} s took longer")


def seconds_until(moment: datetime) -> float:
    """Seconds from now until `moment`; negative once it has passed."""
    return (moment - datetime.now(UTC)).total_seconds()


def _note_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(
    dialect: Dialect, dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any
) -> None:
    """Ping a pooled connection before use only when it idled longer than TRUSTED_FOR, as
    HikariCP does: a ping on every checkout was a round trip before each transaction of the
    order path. A failed ping makes the pool replace the connection, and the others pooled
    before it (a database restart drops them all), before the caller sees it."""
    checked_in = record.info.get(_CHECKED_IN)
    if checked_in is None or time.monotonic() - checked_in <= TRUSTED_FOR:
        return  # new, or used a moment ago
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as dropped:
        raise InvalidatePoolError(f"pooled connection dropped: {dropped}") from dropped


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # The API and the worker are separate processes on one file: WAL lets readers run beside
    # the writer, and busy_timeout makes a writer wait for the lock instead of failing.
    cursor = connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        f"busy_timeout={_SQLITE_BUSY_MS}",
        "foreign_keys=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()
