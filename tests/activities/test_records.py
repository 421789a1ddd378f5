"""The record activity against the real store: whatever a provider says, however long, is
recorded, and the ids it gives still find their shipment and their held reports."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from activities.records import RecordActivities, TransitionInput
from domain.reports import DeliveryReport, MatchKey
from gateways.base import InboundReport
from gateways.dsn import DsnReports
from store import reports, shipments
from store.engine import autocommitted, committed, create_db_engine
from store.models import MAX_PROVIDER_ID, MAX_PROVIDER_STATUS, Shipment
from store.widths import fitted_id, storable
from tests.support.bodies import new_org
from tests.support.reports import DSN_URL, bounce
from tests.support.store import history, new_shipment, reports_in

# PostgreSQL refuses a value longer than its column; SQLite keeps it whole.
pytestmark = pytest.mark.both_databases


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def row_of(engine: Engine, shipment_id: str) -> Shipment:
    with Session(engine) as session:
        row = session.get(Shipment, shipment_id)
    assert row is not None
    return row


def handover(shipment_id: str, gateway_reference: str) -> TransitionInput:
    return TransitionInput(
        shipment_id=shipment_id,
        number=1,
        kind="handover",
        applied=True,
        at=datetime.now(UTC),
        status="SMS_Accepted",
        gateway_reference=gateway_reference,
        provider="linkmobility",
    )


def test_a_status_longer_than_its_column_is_recorded_cut_and_decides(engine: Engine) -> None:
    shipment_id = new_shipment(engine, new_org())
    dsn = bounce(row_of(engine, shipment_id).reference)
    read = DsnReports("smtp", "dsn-secret").read(InboundReport(DSN_URL, {}, dsn))
    [report] = read.reports
    assert len(report.provider_status) > MAX_PROVIDER_STATUS

    result = RecordActivities(engine).record_transition(
        TransitionInput(
            shipment_id=shipment_id,
            number=1,
            kind="report",
            applied=True,
            at=report.received_at,
            status=report.status,
            provider=report.provider,
            provider_status=report.provider_status,
            report_id=report.report_id,
        )
    )

    assert result.recorded
    [kept] = reports_in(history(engine, shipment_id))
    assert kept.provider_status == report.provider_status[:MAX_PROVIDER_STATUS]
    assert row_of(engine, shipment_id).status == "Email_Failed_Bounced"


def test_gateway_references_longer_than_their_column_stay_apart_and_match(
    engine: Engine,
) -> None:
    """Two references alike in their first 256 characters: each finds its own shipment, and
    the report held for the first (it outran the handover) goes to the first alone."""
    common = uuid.uuid4().hex * 8
    first, second = common + "-1", common + "-2"
    early = DeliveryReport(
        reference=first,
        provider="linkmobility",
        provider_status="DELIVRD",
        received_at=datetime.now(UTC),
        status="SMS_Delivered",
        report_id=f"{first}:DELIVRD",
        matched_by=MatchKey.GATEWAY_REFERENCE,
    )
    committed(engine, reports.hold_report, early, 100)
    org = new_org()
    ids = [new_shipment(engine, org), new_shipment(engine, org)]
    records = RecordActivities(engine)

    results = [
        records.record_transition(handover(s, r)) for s, r in zip(ids, [first, second], strict=True)
    ]

    assert [r.reports for r in results] == [[early], []]
    with autocommitted(engine) as connection:
        found = [
            shipments.workflow_of(connection, reference, MatchKey.GATEWAY_REFERENCE)
            for reference in (first, second)
        ]
    assert [row and row.shipment_id for row in found] == ids
    kept = [row_of(engine, i).gateway_reference or "" for i in ids]
    assert all(len(reference) <= MAX_PROVIDER_ID for reference in kept)


def test_provider_text_holding_nul_is_recorded_and_its_reference_still_matches(
    engine: Engine,
) -> None:
    """PostgreSQL's text holds no NUL; SQLite's does. Both record the same."""
    shipment_id = new_shipment(engine, new_org())
    reference = f"{uuid.uuid4().hex}\x00"
    refused = TransitionInput(
        shipment_id=shipment_id,
        number=2,
        kind="report",
        applied=False,
        at=datetime.now(UTC),
        provider="linkmobility",
        provider_status="DEL\x00IVRD",
        report_id=f"{reference}:1",
        detail="said \x00 nothing",
    )
    records = RecordActivities(engine)

    results = [records.record_transition(t) for t in (handover(shipment_id, reference), refused)]

    assert all(result.recorded for result in results)
    assert row_of(engine, shipment_id).gateway_reference == fitted_id(reference)
    with autocommitted(engine) as connection:
        found = shipments.workflow_of(connection, reference, MatchKey.GATEWAY_REFERENCE)
    assert found is not None
    assert found.shipment_id == shipment_id
    [kept] = reports_in(history(engine, shipment_id))
    assert (kept.provider_status, kept.detail) == (storable("DEL\x00IVRD"), "said \ufffd nothing")
