"""Reads and writes of shipment rows and their history."""

from sqlmodel import Session, select

from domain.manifest import ShipmentManifest
from domain.statuses import OrderStatus, is_final
from store.feed import append_feed_entry
from store.models import Shipment, ShipmentEvent


class KeyAlreadyUsedError(Exception):
    """Another order holds this (tenant, idempotencyId): its message may have been sent."""


def insert_shipment(session: Session, row: Shipment) -> bool:
    """Insert the row of a new order; False when this very row is already there (a retry).

    A failed handover deletes its row before its workflow closes, so a row of another order
    means that order was handed over (or an operator ended its workflow midway), and its
    workflow has since been deleted by retention: the key is taken for as long as the row lives.
    """
    existing = find_by_key(session, row.org, row.idempotency_id)
    if existing is not None and existing.id == row.id:
        return False
    if existing is not None:
        raise KeyAlreadyUsedError(existing.id)
    session.add(row)
    session.add(
        ShipmentEvent(
            shipment_id=row.id,
            number=0,
            kind="order",
            status=row.status,
            applied=True,
            at=row.created_at,
        )
    )
    return True


def record_event(session: Session, event: ShipmentEvent, gateway_reference: str | None) -> bool:
    """Append one event and apply it when the workflow says so; False if it was recorded before."""
    duplicate = session.exec(
        select(ShipmentEvent.id).where(
            ShipmentEvent.shipment_id == event.shipment_id, ShipmentEvent.number == event.number
        )
    ).first()
    if duplicate is not None:
        return False
    session.add(event)
    if not event.applied or event.status is None:
        return True
    row = session.get_one(Shipment, event.shipment_id)
    row.status = event.status
    row.last_update = event.at
    if gateway_reference is not None:
        row.gateway_reference = gateway_reference
    final = is_final(event.status)
    if final:
        row.order_status = OrderStatus.COMPLETED
    session.add(row)
    if final:
        append_feed_entry(session, row.org, manifest(row))
    return True


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


def find_by_reference(session: Session, reference: str) -> Shipment | None:
    return session.exec(select(Shipment).where(Shipment.reference == reference)).first()


def find_by_gateway_reference(session: Session, gateway_reference: str) -> Shipment | None:
    return session.exec(
        select(Shipment).where(Shipment.gateway_reference == gateway_reference)
    ).first()


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
