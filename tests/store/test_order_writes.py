"""The order's row write on PostgreSQL (`shipment_inserted`, migration 0014) ends within its
bound or writes nothing, however many locks it waited for on the way."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from domain.orders import Channel
from store import order_writes
from store.engine import create_db_engine
from store.failures import store_away
from store.limits import tenant_lock
from tests.store.test_limits import order_row
from tests.support.bodies import new_org
from tests.support.store import released_after, shipment_row


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
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


def test_two_lock_waits_each_within_the_bound_still_end_the_write_by_it(engine: Engine) -> None:
    org = new_org()
    space, key = tenant_lock(org)
    row = order_row(org, Channel.SMS, "+4791234567")

    with (
        held(engine, f"SELECT pg_advisory_xact_lock({space}, {key})", 0.6),
        held(engine, "LOCK TABLE shipment_event IN EXCLUSIVE MODE", 1.3),
        pytest.raises(OperationalError) as outlasted,
    ):
        order_writes.insert_shipment(engine, row, [], seconds=1.0)

    assert getattr(outlasted.value.orig, "sqlstate", None) == "55P03"
    assert store_away(outlasted.value)
    assert shipment_row(engine, org, row["idempotency_id"]) is None
