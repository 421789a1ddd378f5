"""Removal of what the store no longer needs to keep, a small batch at a time."""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session

from domain.webhooks import DeliveryStatus
from store.models import (
    DeadReport,
    FeedEntry,
    HeldReport,
    Shipment,
    WebhookDelivery,
    WebhookReceipt,
)

_SHIPMENT = Shipment.__table__  # type: ignore[attr-defined]
_FEED = FeedEntry.__table__  # type: ignore[attr-defined]
# The next feed number is the highest one present plus one, so the entry holding it stays, and
# so does one not numbered yet: numbered between this choice and the delete, it could be that.
_FEED_KEEPS = sa_select(_FEED.c.shipment_id).where(
    or_(
        _FEED.c.seq.is_(None),
        _FEED.c.seq == sa_select(func.max(_FEED.c.seq)).scalar_subquery(),
    )
)
# Completed orders only: a row is what keeps its key, and what an open workflow still writes.
_OLD_SHIPMENTS = (
    sa_select(_SHIPMENT.c.id)
    .where(
        _SHIPMENT.c.created_at < bindparam("cutoff"),
        _SHIPMENT.c.order_status == "Order_Completed",
        _SHIPMENT.c.id.not_in(_FEED_KEEPS),
    )
    .limit(bindparam("size"))
)


def _table(model: Any) -> Any:
    return model.__table__


def _old(model: Any, stamp: str, *more: ColumnElement[bool]) -> tuple[Any, list[Any]]:
    table = _table(model)
    return table, [table.c[stamp] < bindparam("cutoff"), *more]


# Bookkeeping kept beside the shipments, by its age; a delivery still being retried stays.
_RECORDS = [
    _old(WebhookReceipt, "received_at"),
    _old(DeadReport, "received_at"),
    _old(HeldReport, "received_at"),
    _old(
        WebhookDelivery,
        "created_at",
        _table(WebhookDelivery).c.status != DeliveryStatus.PENDING,
    ),
]


def remove_old_shipments(session: Session, cutoff: datetime, size: int) -> int:
    """Up to `size` completed shipments created before `cutoff`, with their history and feed
    entries (the foreign keys cascade), except the feed's newest; returns how many.

    Feed numbers never repeat: the next is the highest present plus one, and the shipment
    holding it stays until a newer entry is numbered (as does one whose entry has no number
    yet). A quiet feed thus keeps its newest shipment past the cutoff.
    """
    connection = session.connection()
    ids = list(connection.execute(_OLD_SHIPMENTS, {"cutoff": cutoff, "size": size}).scalars())
    if ids:
        connection.execute(delete(_SHIPMENT).where(_SHIPMENT.c.id.in_(ids)))
    return len(ids)


def remove_old_records(session: Session, cutoff: datetime, size: int) -> int:
    """Up to `size` rows of each kind of bookkeeping older than `cutoff`: webhook ids, dead and
    held reports, finished webhook deliveries; returns how many."""
    connection = session.connection()
    removed = 0
    for table, conditions in _RECORDS:
        key = next(iter(table.primary_key.columns))
        old = sa_select(key).where(*conditions).limit(size)
        result = connection.execute(delete(table).where(key.in_(old)), {"cutoff": cutoff})
        removed += result.rowcount or 0
    return removed
