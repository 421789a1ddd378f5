"""The one database engine factory: SQLite for local use, PostgreSQL in production."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine

P = ParamSpec("P")
T = TypeVar("T")


def create_db_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
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


@contextmanager
def autocommitted(engine: Engine) -> Iterator[Connection]:
    """A connection whose every statement is a transaction of its own: for one-statement
    writes and server-side calls, without the round trips of BEGIN and COMMIT."""
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # The API and the worker are separate processes on one file: WAL lets readers run beside
    # the writer, and busy_timeout makes a writer wait for the lock instead of failing.
    cursor = connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "busy_timeout=30000",
        "foreign_keys=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()
