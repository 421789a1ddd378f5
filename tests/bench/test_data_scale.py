"""The data-scale table's own claims, on the machine's PostgreSQL: the busy tenant's windows hold
one order less than each limit, so its probe walks full windows, and the plans reported are
those the probes' statements ran with."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench import data_scale
from bench.data_scale import BUSY, BUSY_RECIPIENT, LIMITS
from devstack.postgres import scratch_postgres_database
from store.engine import create_db_engine
from store.limits import first_refusal
from store.migrate import migrate_database
from tests.support.postgres import postgres_server

UNTIL = datetime.now(UTC)


@pytest.fixture(scope="module")
def loaded() -> Iterator[Engine]:
    """A small store as the bench loads it, with the busy tenant's windows filled."""
    with scratch_postgres_database(postgres_server()) as url:
        migrate_database(url)
        engine = create_db_engine(url)
        data_scale.load(engine, 0, 200)
        data_scale.fill_windows(engine, UNTIL)
        yield engine
        engine.dispose()


def _refused_by(session: Session, destination: str, only_recipient: bool = False) -> str | None:
    order = data_scale.order_row(BUSY, destination, at=UNTIL).model_dump()
    refusal = first_refusal(session, order, LIMITS[:1] if only_recipient else LIMITS)
    return refusal.scope if refusal else None


def test_the_busy_tenants_windows_hold_one_order_less_than_each_limit(loaded: Engine) -> None:
    recipient, tenant = LIMITS
    earlier = UNTIL - timedelta(seconds=1)
    with Session(loaded) as session:
        assert _refused_by(session, BUSY_RECIPIENT) is None
        session.add(data_scale.order_row(BUSY, BUSY_RECIPIENT, at=earlier))
        session.flush()
        assert _refused_by(session, BUSY_RECIPIENT, only_recipient=True) == recipient.scope
        session.rollback()

        assert _refused_by(session, "+4798888888") is None
        session.add(data_scale.order_row(BUSY, "+4797777777", at=earlier))
        session.flush()
        assert _refused_by(session, "+4798888888") == tenant.scope
        session.rollback()


def test_the_plans_are_those_the_probes_ran_with(loaded: Engine) -> None:
    probes = {probe.name: probe for probe in data_scale.probes_of(loaded, UNTIL)}
    with Session(loaded) as session:
        found = {name: data_scale.plan_of(session, probes[name]) for name in probes}

    assert found["get_shipment"]["plan"] == ["Index Scan pk_shipment"]
    # The check's two statements, each its own plan: one per window.
    assert len(found["rate_limit_check_full_windows"]["plan"]) == 2
