"""Reads and writes of shipment rows and their history."""

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from domain.handover import HandoverResult
from domain.manifest import ShipmentManifest
from domain.reports import MatchKey
from domain.statuses import is_final, order_status_of
from store.feed import append_feed_entry
from store.inserts import InsertIgnoring
from store.models import Shipment, ShipmentEvent
from store.widths import fitted_id


class KeyAlreadyUsedError(Exception):
    """Another order holds this (tenant, idempotencyId): its message may have been sent."""


# The worker's writes run on every order: statements are built once, and executed as Core
# on the session's connection, without the ORM's unit of work.
_SHIPMENT = Shipment.__table__  # type: ignore[attr-defined]
_EVENT = ShipmentEvent.__table__  # type: ignore[attr-defined]
_KEY_HOLDER = select(_SHIPMENT.c.id).where(
    _SHIPMENT.c.org == bindparam("org"), _SHIPMENT.c.idempotency_id == bindparam("key")
)
_EVENT = ShipmentEvent.__table__  # type: ignore[attr-defined]
_HANDOVER_RECORDED = (
    sa_select(
        _EVENT.c.status,
        _EVENT.c.at,
        _SHIPMENT.c.gateway_reference,
        _EVENT.c.detail,
        _EVENT.c.provider,
    )
    .join(_SHIPMENT, _SHIPMENT.c.id == _EVENT.c.shipment_id)
    .where(
        _EVENT.c.shipment_id == bindparam("sid"),
        _EVENT.c.number == bindparam("number"),
        _EVENT.c.kind == "handover",
        _EVENT.c.status.is_not(None),
    )
)
# Only by the execution that holds the row (its token; None for the one that wrote it).
_ASSIGN = (
    update(_SHIPMENT)
    .where(
        _SHIPMENT.c.id == bindparam("sid"),
        _SHIPMENT.c.handover_token.is_not_distinct_from(bindparam("token")),
    )
    .values(provider=bindparam("provider"))
)
# One statement: the provider read is the one the hold covers.
_TAKE_OVER = (
    update(_SHIPMENT)
    .where(_SHIPMENT.c.id == bindparam("sid"))
    .values(handover_token=bindparam("token"))
    .returning(_SHIPMENT.c.provider)
)
# A new order's row; any conflict (a retry's own row, another order's key) inserts nothing.
_INSERT_NEW = InsertIgnoring(_SHIPMENT, [c.name for c in _SHIPMENT.columns], _SHIPMENT.c.id)
# An event already recorded (a retry) inserts nothing.
_RECORD = InsertIgnoring(
    _EVENT,
    [c.name for c in _EVENT.columns if c.name != "id"],
    _EVENT.c.id,
    conflict=["shipment_id", "number"],
)
_APPLY = (
    update(_SHIPMENT)
    .where(_SHIPMENT.c.id == bindparam("sid"))
    .values(
        status=bindparam("new_status"),
        last_update=bindparam("at"),
        order_status=bindparam("new_order_status"),
        gateway_reference=func.coalesce(bindparam("gateway"), _SHIPMENT.c.gateway_reference),
    )
    # The updated row comes back as the completion snapshot, without a second read.
    .returning(
        _SHIPMENT.c.org,
        _SHIPMENT.c.id.label("shipment_id"),
        *(_SHIPMENT.c[f.name] for f in fields(ShipmentManifest) if f.name != "shipment_id"),
    )
)


def insert_shipment(session: Session, row: Mapping[str, Any]) -> bool:
    """Insert the row of a new order; False when this very row is already there (a retry).

    A failed handover deletes its row before its workflow closes, so a row of another order
    means that order was handed over (or an operator ended its workflow midway), and its
    workflow has since been deleted by retention: the key is taken for as long as the row lives.
    """
    connection = session.connection()
    if not _INSERT_NEW.run(connection, row):
        holder = connection.execute(_KEY_HOLDER, {"org": row["org"], "key": row["idempotency_id"]})
        taken_by = holder.scalar()
        if taken_by == row["id"]:
            return False
        raise KeyAlreadyUsedError(taken_by)
    order = {
        "shipment_id": row["id"],
        "number": 0,
        "kind": "order",
        "status": row["status"],
        "applied": True,
        "at": row["created_at"],
    }
    _RECORD.run(connection, order)
    return True


def record_event(session: Session, event: Mapping[str, Any], gateway_reference: str | None) -> bool:
    """Append one event (the columns of ShipmentEvent) and apply it when the workflow says so;
    False if it was recorded before.

    A final status appends the shipment to the feed in the same transaction."""
    connection = session.connection()
    if not _RECORD.run(connection, event):
        return False
    status = event.get("status")
    if not event["applied"] or status is None:
        return True
    applied = connection.execute(
        _APPLY,
        {
            "sid": event["shipment_id"],
            "new_status": status,
            "at": event["at"],
            "new_order_status": order_status_of(status),
            "gateway": gateway_reference,
        },
    ).one()
    if is_final(status):
        append_feed_entry(session, dict(applied._mapping))
    return True


def recorded_handover(session: Session, shipment_id: str, number: int) -> HandoverResult | None:
    """The provider's answer as an earlier attempt of the handover recorded it (event
    `number`), if one got that far."""
    found = (
        session.connection()
        .execute(_HANDOVER_RECORDED, {"sid": shipment_id, "number": number})
        .first()
    )
    return None if found is None else HandoverResult(**found._mapping)


def name_gateway_reference(session: Session, shipment_id: str, gateway_reference: str) -> None:
    """The provider's name for a message whose handover ended unconfirmed, where it was known
    before the send; a name the row has already is kept."""
    session.connection().execute(
        update(_SHIPMENT)
        .where(_SHIPMENT.c.id == shipment_id, _SHIPMENT.c.gateway_reference.is_(None))
        .values(gateway_reference=fitted_id(gateway_reference))
    )


def assign_provider(
    session: Session, shipment_id: str, provider: str | None, token: str | None
) -> bool:
    """Name the provider the handover is about to ask, before it asks (None: none may hold
    the message). False: another execution holds the row, and this one must ask nobody."""
    named = session.connection().execute(
        _ASSIGN, {"sid": shipment_id, "provider": provider, "token": token}
    )
    return bool(getattr(named, "rowcount", 0) == 1)


def take_over(session: Session, shipment_id: str, token: str) -> str | None:
    """Hold the row for a resumed execution of its handover; the provider it names."""
    taken = session.connection().execute(_TAKE_OVER, {"sid": shipment_id, "token": token})
    provider: str | None = taken.scalar()
    return provider


def delete_shipment(session: Session, shipment_id: str) -> None:
    row = session.get(Shipment, shipment_id)
    if row is not None:
        session.delete(row)


def find_by_key(session: Session, org: str, idempotency_id: str) -> Shipment | None:
    return session.exec(
        select(Shipment).where(Shipment.org == org, Shipment.idempotency_id == idempotency_id)
    ).first()


def find_for_tenant(session: Session, org: str, shipment_id: str) -> Shipment | None:
    row = session.get(Shipment, shipment_id)
    return row if row is not None and row.org == org else None


class ShipmentWorkflow(NamedTuple):
    """What a report needs of its shipment: the row's id, the workflow to signal, the status
    now, the provider that was asked (the only one whose reports count) and the id it gave."""

    shipment_id: str
    workflow_id: str
    status: str
    provider: str | None
    gateway_reference: str | None


_WORKFLOW_BY = {
    key: sa_select(
        _SHIPMENT.c.id,
        _SHIPMENT.c.workflow_id,
        _SHIPMENT.c.status,
        _SHIPMENT.c.provider,
        _SHIPMENT.c.gateway_reference,
    ).where(column == bindparam("reference"))
    for key, column in (
        (MatchKey.REFERENCE, _SHIPMENT.c.reference),
        (MatchKey.GATEWAY_REFERENCE, _SHIPMENT.c.gateway_reference),
    )
}


def workflow_of(connection: Connection, reference: str, key: MatchKey) -> ShipmentWorkflow | None:
    """The shipment a report names, by our reference or the gateway's (on every report)."""
    found = connection.execute(_WORKFLOW_BY[key], {"reference": fitted_id(reference)}).first()
    return None if found is None else ShipmentWorkflow(*found)


def history(session: Session, shipment_id: str) -> list[ShipmentEvent]:
    return list(
        session.exec(
            select(ShipmentEvent)
            .where(ShipmentEvent.shipment_id == shipment_id)
            .order_by(ShipmentEvent.id)  # type: ignore[arg-type]
        )
    )


def manifest(row: Shipment) -> ShipmentManifest:
    return ShipmentManifest(
        shipment_id=row.id,
        senders_reference=row.senders_reference,
        order_status=row.order_status,
        channel=row.channel,
        destination=row.destination,
        status=row.status,
        last_update=row.last_update,
    )
