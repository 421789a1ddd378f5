"""Held reports: claimed exactly once, by the inbox or by the workflow, whichever is first."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.reports import DeliveryReport, MatchKey
from store import reports
from store.engine import create_db_engine, create_tables

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'held.sqlite'}")
    create_tables(engine)
    yield engine
    engine.dispose()


def report(gateway_reference: str = "REF-1", state: str = "DELIVRD") -> DeliveryReport:
    return DeliveryReport(
        reference=gateway_reference,
        provider="linkmobility",
        provider_status=state,
        received_at=NOW,
        status="SMS_Delivered",
        occurred_at=NOW,
        report_id=f"{gateway_reference}:{state}",
        matched_by=MatchKey.GATEWAY_REFERENCE,
    )


def hold(engine: Engine, held: DeliveryReport) -> int:
    with Session(engine) as session:
        held_id = reports.hold_report(session, held)
        session.commit()
    return held_id


def test_the_workflow_takes_the_held_reports_whole_and_again_on_a_retry(engine: Engine) -> None:
    first, second = report(state="ENROUTE"), report()
    hold(engine, first)
    hold(engine, second)
    hold(engine, report("REF-2"))

    with Session(engine) as session:
        taken = reports.claim_held_reports(session, "REF-1", "shipment-1")
        session.commit()
    with Session(engine) as session:
        retried = reports.claim_held_reports(session, "REF-1", "shipment-1")

    assert taken == [first, second]
    assert retried == taken


def test_the_inbox_claim_and_the_workflow_claim_exclude_each_other(engine: Engine) -> None:
    inbox_first = hold(engine, report("REF-1"))
    with Session(engine) as session:
        assert reports.claim_held_report(session, inbox_first, "shipment-1")
        session.commit()
    with Session(engine) as session:
        assert reports.claim_held_reports(session, "REF-1", "shipment-1") == []
        assert not reports.claim_held_report(session, inbox_first, "shipment-1")

    workflow_first = hold(engine, report("REF-3"))
    with Session(engine) as session:
        assert len(reports.claim_held_reports(session, "REF-3", "shipment-3")) == 1
        session.commit()
    with Session(engine) as session:
        assert not reports.claim_held_report(session, workflow_first, "shipment-3")
