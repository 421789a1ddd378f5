"""Held reports: claimed exactly once, by the inbox or by the workflow, whichever is first."""

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.reports import DeliveryReport, MatchKey
from store import reports
from store.models import HeldReport

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def refs() -> list[str]:
    """Gateway references and shipment ids of this test alone (PostgreSQL keeps its rows)."""
    return [uuid.uuid4().hex for _ in range(4)]


def report(gateway_reference: str, state: str = "DELIVRD") -> DeliveryReport:
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
        held_id = reports.hold_report(session, held, 100)
        session.commit()
    return held_id


def test_the_workflow_takes_the_held_reports_whole_and_again_on_a_retry(
    engine: Engine, refs: list[str]
) -> None:
    ref, other, shipment = refs[:3]
    first, second = report(ref, state="ENROUTE"), report(ref)
    hold(engine, first)
    hold(engine, second)
    hold(engine, report(other))

    taken = reports.claim_held_reports(engine, ref, shipment)
    retried = reports.claim_held_reports(engine, ref, shipment)

    assert taken == [first, second]
    assert retried == taken


def test_a_report_held_by_a_newer_api_is_read_without_its_added_fields(
    engine: Engine, refs: list[str]
) -> None:
    """During a rolling upgrade, a report held with a field this worker does not know."""
    ref, shipment = refs[:2]
    held = report(ref)
    held_id = hold(engine, held)
    with Session(engine) as session:
        row = session.get(HeldReport, held_id)
        assert row is not None
        row.report = json.dumps({**json.loads(row.report), "carrier": "telenor"})
        session.commit()

    assert reports.claim_held_reports(engine, ref, shipment) == [held]


def test_the_inbox_claim_and_the_workflow_claim_exclude_each_other(
    engine: Engine, refs: list[str]
) -> None:
    ref, shipment, later_ref, later_shipment = refs
    inbox_first = hold(engine, report(ref))
    with Session(engine) as session:
        assert reports.claim_held_report(session, inbox_first, shipment)
        session.commit()
    assert reports.claim_held_reports(engine, ref, shipment) == []
    with Session(engine) as session:
        assert not reports.claim_held_report(session, inbox_first, shipment)

    workflow_first = hold(engine, report(later_ref))
    assert len(reports.claim_held_reports(engine, later_ref, later_shipment)) == 1
    with Session(engine) as session:
        assert not reports.claim_held_report(session, workflow_first, later_shipment)


def test_a_reference_holds_its_fill_and_a_few_final_reports_more(
    engine: Engine, refs: list[str]
) -> None:
    ref = refs[0]
    in_flight = replace(report(ref, "ENROUTE"), status=None)

    def held(each: DeliveryReport) -> bool:
        with Session(engine) as session:
            try:
                reports.hold_report(session, replace(each, report_id=uuid.uuid4().hex), 3)
            except reports.HeldFull:
                return False
            session.commit()
            return True

    kept = [held(in_flight) for _ in range(5)] + [held(report(ref)) for _ in range(15)]

    assert kept == [True] * 3 + [False] * 2 + [True] * reports.FINAL_ROOM + [False] * 5
