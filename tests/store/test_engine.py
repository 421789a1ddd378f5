"""PostgreSQL connections from the pool: pinged only after idling, replaced when dropped."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from store import engine as store_engine
from store.engine import WriteOutlasted, committed_within, create_db_engine
from tests.support.store import soon

_BACKEND = text("SELECT pg_backend_pid()")
# A row of a table of the schema, written and read back by its `reason`.
_NOTE = text(
    "INSERT INTO dead_report (provider, reason, payload, received_at)"
    " VALUES ('test', :key, '', now())"
)
_NOTES = text("SELECT reason FROM dead_report WHERE reason LIKE :key")


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_db_engine(postgres_url)
    yield engine
    engine.dispose()


def backend(engine: Engine) -> int:
    with engine.connect() as connection:
        pid: int = connection.execute(_BACKEND).scalar_one()
        return pid


def drop(postgres_url: str, pid: int) -> None:
    """End a pooled connection's server process, as a restart of the database would."""
    killer = create_db_engine(postgres_url)
    with killer.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    killer.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_use(
    engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_engine, "TRUSTED_FOR", 0.0)
    first = backend(engine)
    drop(postgres_url, first)

    assert backend(engine) != first


def test_a_connection_used_a_moment_ago_is_trusted_without_a_ping(
    engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No round trip before the statement: a drop within the window reaches one statement,
    whose caller's retry (an activity's, a client's) then gets a new connection."""
    monkeypatch.setattr(store_engine, "TRUSTED_FOR", 3600.0)
    first = backend(engine)
    drop(postgres_url, first)

    with pytest.raises(OperationalError) as failed:
        backend(engine)
    assert failed.value.connection_invalidated
    assert backend(engine) != first


def test_a_failed_statement_does_not_carry_its_parameters_into_the_log(engine: Engine) -> None:
    """The error of a failed write is logged whole: its parameters could be a webhook secret."""
    with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
        connection.execute(text("SELECT 1 / 0, CAST(:secret AS text)"), {"secret": "whsec_abc"})

    assert "whsec_abc" not in str(failed.value)


def test_a_bounded_write_that_takes_longer_is_not_committed(engine: Engine) -> None:
    """Every lock wait within its bound, the whole still longer: it fails, writing nothing."""
    key = uuid.uuid4().hex

    def slow(session: Session) -> None:
        session.connection().execute(_NOTE, {"key": key})
        session.connection().execute(text("SELECT pg_sleep(0.3)"))

    with pytest.raises(WriteOutlasted):
        committed_within(engine, soon(0.2), slow)
    committed_within(engine, soon(), lambda s: s.connection().execute(_NOTE, {"key": f"{key}-2"}))

    with engine.connect() as connection:
        kept = connection.execute(_NOTES, {"key": f"{key}%"}).scalars().all()
    assert kept == [f"{key}-2"]
