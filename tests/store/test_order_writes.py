"""The order's row write ends by its time or writes nothing: on PostgreSQL (`shipment_inserted`,
migration 0014) however many locks it waited for on the way."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from domain.orders import Channel
from store import order_writes
from store.engine import WriteOutlasted, create_db_engine
from store.failures import store_away
from store.limits import tenant_lock
from tests.store.test_limits import order_row
from tests.support.bodies import new_org
from tests.support.store import released_after, shipment_row, soon


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_db_engine(postgres_url)
    yield engine
    engine.dispose()


@contextmanager
def held(engine: Engine, statement: str, seconds: float) -> Iterator[None]:
    """A lock taken by another session for `seconds`."""
    holder = engine.connect()
    holder.execute(text(statement))
    with released_after(seconds, holder):
        yield


def test_two_lock_waits_each_within_the_bound_still_end_the_write_by_it(
    pg_engine: Engine,
) -> None:
    engine = pg_engine
    org = new_org()
    space, key = tenant_lock(org)
    row = order_row(org, Channel.SMS, "+4791234567")

    with (
        held(engine, f"SELECT pg_advisory_xact_lock({space}, {key})", 0.6),
        held(engine, "LOCK TABLE shipment_event IN EXCLUSIVE MODE", 1.3),
        pytest.raises(OperationalError) as outlasted,
    ):
        order_writes.insert_shipment(engine, row, [], by=soon(1.0))

    assert getattr(outlasted.value.orig, "sqlstate", None) == "55P03"
    assert store_away(outlasted.value)
    assert shipment_row(engine, org, row["idempotency_id"]) is None


def test_a_write_whose_time_passed_before_it_ran_writes_nothing(engine: Engine) -> None:
    """Its time is a moment, not a length: a wait for a thread or a connection counts too."""
    org = new_org()
    row = order_row(org, Channel.SMS, "+4791234567")

    with pytest.raises((OperationalError, WriteOutlasted)):
        order_writes.insert_shipment(engine, row, [], by=datetime.now(UTC) - timedelta(seconds=1))

    assert shipment_row(engine, org, row["idempotency_id"]) is None
