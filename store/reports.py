"""Bookkeeping of inbound reports: dead, late and surplus reports, and replayed webhook ids."""

import json
from dataclasses import asdict
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from core.payloads import read_as
from domain.reports import DeliveryReport
from domain.statuses import is_final
from store.engine import autocommitted
from store.inserts import InsertIgnoring
from store.locks import key_of, lock_until_commit
from store.models import DeadReport, HeldReport, Shipment, ShipmentEvent, WebhookReceipt
from store.widths import fitted_event, fitted_id, storable

BY_WORKFLOW = "workflow"
BY_INBOX = "inbox"
# Final reports held past the fill of those that decide nothing: the first of them decides,
# so a few get room, and a flood of them cannot grow the claim past a workflow's payload limit.
FINAL_ROOM = 10
_HOLD_LOCKS = 0x686C  # first key of the two-key advisory locks taken here
_SHIPMENT = Shipment.__table__  # type: ignore[attr-defined]


def add_dead_report(session: Session, report: DeadReport) -> None:
    if report.reference is not None:
        report.reference = fitted_id(report.reference)
    report.payload = storable(report.payload)
    session.add(report)


def add_late_report(session: Session, event: ShipmentEvent) -> None:
    """A report kept in the shipment's history only, for a closed workflow (`late_report`) or
    one given its fill of reports (`surplus_report`): the status does not change."""
    session.add(ShipmentEvent(**fitted_event(event.model_dump())))


_RECEIPT = WebhookReceipt.__table__  # type: ignore[attr-defined]
# One statement on every report: an id already there inserts nothing.
_CLAIM = InsertIgnoring(
    _RECEIPT,
    ["webhook_id", "received_at", "done"],
    _RECEIPT.c.webhook_id,
    conflict=["webhook_id"],
)
# How long a delivery under way keeps its id from the provider's retries: longer than a
# delivery takes, and short enough that a sender's retries (the simulator's span about 23 s)
# outlast the claim of a delivery cut off. Past it, two deliveries may both process the id; a
# repeat is kept as history.
CLAIM_LEASE = timedelta(seconds=10)


class Claim(Enum):
    NEW = "new"  # this delivery processes the id: the first, or one cut off a lease ago
    DONE = "done"  # a replay of a delivery processed to its end
    BUSY = "busy"  # another delivery is processing it now


def admit_report(connection: Connection, shipment_id: str, most: int) -> bool:
    """Count one more report that decides nothing for the shipment's workflow, unless it has
    had `most`: one statement, so reports at once never pass the count together."""
    signalled = func.coalesce(_SHIPMENT.c.reports_signalled, 0)
    admitted = connection.execute(
        update(_SHIPMENT)
        .where(_SHIPMENT.c.id == shipment_id, signalled < most)
        .values(reports_signalled=signalled + 1)
    )
    return bool(getattr(admitted, "rowcount", 0) == 1)


def claim_webhook(connection: Connection, webhook_id: str, at: datetime) -> Claim:
    """Take a webhook id for processing; `finish_webhook` once its reports are delivered."""
    fitted = fitted_id(webhook_id)
    if _CLAIM.run(connection, {"webhook_id": fitted, "received_at": at, "done": False}):
        return Claim.NEW
    # Its delivery was cut off (the API stopped): nothing will finish it but this one.
    taken = connection.execute(
        update(WebhookReceipt)
        .where(
            col(WebhookReceipt.webhook_id) == fitted,
            col(WebhookReceipt.done).is_(False),
            col(WebhookReceipt.received_at) < at - CLAIM_LEASE,
        )
        .values(received_at=at)
    )
    if getattr(taken, "rowcount", 0) == 1:
        return Claim.NEW
    done = connection.execute(
        select(col(WebhookReceipt.done)).where(col(WebhookReceipt.webhook_id) == fitted)
    ).scalar()
    return Claim.DONE if done else Claim.BUSY


def finish_webhook(connection: Connection, webhook_id: str) -> None:
    connection.execute(
        update(WebhookReceipt)
        .where(col(WebhookReceipt.webhook_id) == fitted_id(webhook_id))
        .values(done=True)
    )


def release_webhook(connection: Connection, webhook_id: str) -> None:
    """Undo a claim whose processing failed, so that the sender's retry is processed."""
    connection.execute(
        delete(WebhookReceipt).where(
            col(WebhookReceipt.webhook_id) == fitted_id(webhook_id),
            col(WebhookReceipt.done).is_(False),
        )
    )


def report_json(report: DeliveryReport) -> str:
    """A report as read, kept without the request it came in (a held or a dead report)."""
    return json.dumps(asdict(report), default=datetime.isoformat)


class HeldFull(Exception):
    """The gateway reference has its fill of held reports: this one was not held."""


def hold_report(session: Session, report: DeliveryReport, most: int) -> int:
    """Hold a report that outran the record of its handover, for its workflow to claim (the
    claim hands it all of them). Raises HeldFull, for the caller to roll back, when `most`
    are held for the reference already, or, for a final report, `most` + FINAL_ROOM. Written
    before it is counted: SQLite's writer lock, or PostgreSQL's lock of the reference, lets
    one count at a time."""
    reference = fitted_id(report.reference)
    lock_until_commit(session.connection(), _HOLD_LOCKS, key_of(reference))
    row = HeldReport(
        provider=report.provider,
        gateway_reference=reference,
        report=report_json(report),
        received_at=report.received_at,
    )
    session.add(row)
    session.flush()
    held = (
        session.connection()
        .execute(
            select(func.count()).select_from(_HELD).where(_HELD.c.gateway_reference == reference)
        )
        .scalar_one()
    )
    final = report.status is not None and is_final(report.status)
    if held > most + (FINAL_ROOM if final else 0):
        raise HeldFull(reference)
    assert row.id is not None
    return row.id


def claim_held_report(session: Session, held_id: int, shipment_id: str) -> bool:
    """The inbox's claim of the report it just held; False when the workflow was first."""
    result = session.execute(
        update(HeldReport)
        .where(col(HeldReport.id) == held_id, col(HeldReport.shipment_id).is_(None))
        .values(shipment_id=shipment_id, claimed_by=BY_INBOX)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


_HELD = HeldReport.__table__  # type: ignore[attr-defined]
# Unclaimed reports of the gateway reference, and on a retry those this claim took before.
_CLAIM_FOR_WORKFLOW = (
    update(_HELD)
    .where(
        or_(
            and_(_HELD.c.gateway_reference == bindparam("gateway"), _HELD.c.shipment_id.is_(None)),
            and_(_HELD.c.shipment_id == bindparam("sid"), _HELD.c.claimed_by == BY_WORKFLOW),
        )
    )
    .values(shipment_id=bindparam("sid"), claimed_by=BY_WORKFLOW)
    .returning(_HELD.c.id, _HELD.c.report)
)


def claim_held_reports(
    engine: Engine, gateway_reference: str, shipment_id: str
) -> list[DeliveryReport]:
    """The workflow's claim of every report held for its gateway reference, in the order they
    arrived; a retry of the same claim returns the same reports. Call it after the commit
    that records the reference, so that a report held from then on finds it. One statement,
    without BEGIN and COMMIT around it."""
    with autocommitted(engine) as connection:
        claimed = connection.execute(
            _CLAIM_FOR_WORKFLOW, {"gateway": fitted_id(gateway_reference), "sid": shipment_id}
        ).all()
    ordered = sorted(claimed, key=lambda row: row.id)
    return [read_as(DeliveryReport, json.loads(row.report)) for row in ordered]
