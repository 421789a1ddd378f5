"""Removal of what the store no longer needs to keep, a small batch at a time."""

from datetime import datetime

from sqlalchemy import bindparam, delete
from sqlalchemy import select as sa_select
from sqlmodel import Session

from store.models import DeadReport, HeldReport, Shipment, WebhookReceipt

_SHIPMENT = Shipment.__table__  # type: ignore[attr-defined]
# Completed orders only: a row is what keeps its key, and what an open workflow still writes.
_OLD_SHIPMENTS = (
    sa_select(_SHIPMENT.c.id)
    .where(
        _SHIPMENT.c.created_at < bindparam("cutoff"),
        _SHIPMENT.c.order_status == "Order_Completed",
    )
    .limit(bindparam("size"))
)
# Bookkeeping of inbound reports, by the time it was received.
_RECEIVED = [
    model.__table__  # type: ignore[union-attr]
    for model in (WebhookReceipt, DeadReport, HeldReport)
]


def remove_old_shipments(session: Session, cutoff: datetime, size: int) -> int:
    """Up to `size` completed shipments created before `cutoff`, with their history and feed
    entries (the foreign keys cascade); returns how many."""
    connection = session.connection()
    ids = list(connection.execute(_OLD_SHIPMENTS, {"cutoff": cutoff, "size": size}).scalars())
    if ids:
        connection.execute(delete(_SHIPMENT).where(_SHIPMENT.c.id.in_(ids)))
    return len(ids)


def remove_old_report_records(session: Session, cutoff: datetime, size: int) -> int:
    """Up to `size` rows of each report table received before `cutoff`; returns how many."""
    connection = session.connection()
    removed = 0
    for table in _RECEIVED:
        key = next(iter(table.primary_key.columns))
        old = sa_select(key).where(table.c.received_at < cutoff).limit(size)
        removed += connection.execute(delete(table).where(key.in_(old))).rowcount or 0
    return removed
