"""Retention removes completed shipments and report bookkeeping older than its cutoff, in
batches, and nothing else."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.webhooks import DeliveryStatus
from store import retention
from store.models import (
    DeadReport,
    FeedEntry,
    HeldReport,
    ShipmentEvent,
    WebhookDelivery,
    WebhookReceipt,
    WebhookSubscription,
)
from tests.support.store import complete, new_shipment, shipment_row

# Far enough back that no other test's rows (PostgreSQL keeps them) are older.
OLD = datetime(2001, 1, 1, tzinfo=UTC)
CUTOFF = datetime(2002, 1, 1, tzinfo=UTC)


def count(engine: Engine, model: type, *where: object) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(session.execute(query).scalar_one())


def delivery_statuses(engine: Engine, subscription_id: str) -> list[str]:
    with Session(engine) as session:
        query = select(WebhookDelivery.status).where(  # type: ignore[call-overload]
            WebhookDelivery.subscription_id == subscription_id
        )
        return list(session.execute(query).scalars())


def test_old_completed_shipments_go_with_their_history_and_feed_entries(engine: Engine) -> None:
    org = f"ret{uuid.uuid4().hex[:8]}"
    old = [new_shipment(engine, org, OLD) for _ in range(5)]
    for shipment_id in old:
        complete(engine, shipment_id)
    waiting = new_shipment(engine, org, OLD)  # an open workflow still writes it
    recent = new_shipment(engine, org)
    complete(engine, recent)

    removed = []
    with Session(engine) as session:
        while batch := retention.remove_old_shipments(session, CUTOFF, size=2):
            session.commit()
            removed.append(batch)

    assert removed == [2, 2, 1]
    for shipment_id in old:
        assert count(engine, ShipmentEvent, ShipmentEvent.shipment_id == shipment_id) == 0
        assert count(engine, FeedEntry, FeedEntry.shipment_id == shipment_id) == 0
    assert shipment_row(engine, org, waiting) is not None
    assert shipment_row(engine, org, recent) is not None
    assert count(engine, FeedEntry, FeedEntry.shipment_id == recent) == 1


def test_old_bookkeeping_goes_in_batches(engine: Engine) -> None:
    tag = uuid.uuid4().hex
    subscription_id = str(uuid.uuid4())
    with Session(engine) as session:
        session.add(
            WebhookSubscription(
                id=subscription_id, org=tag, url="https://e.no/h", secret="s", created_at=OLD
            )
        )
        session.flush()
        for status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.PENDING):
            session.add(
                WebhookDelivery(
                    id=str(uuid.uuid4()),
                    subscription_id=subscription_id,
                    event_type="shipment.completed",
                    shipment_id=tag,
                    payload="{}",
                    status=status,
                    created_at=OLD,
                    updated_at=OLD,
                )
            )
        for n in range(3):
            session.add(WebhookReceipt(webhook_id=f"{tag}-{n}", received_at=OLD))
            session.add(DeadReport(provider="p", reason=tag, payload="{}", received_at=OLD))
            session.add(
                HeldReport(provider="p", gateway_reference=tag, report="{}", received_at=OLD)
            )
        session.add(WebhookReceipt(webhook_id=f"{tag}-new", received_at=datetime.now(UTC)))
        session.commit()

    with Session(engine) as session:
        first = retention.remove_old_records(session, CUTOFF, size=2)
        second = retention.remove_old_records(session, CUTOFF, size=2)
        third = retention.remove_old_records(session, CUTOFF, size=2)
        session.commit()

    assert (first, second, third) == (8, 3, 0)
    assert count(engine, WebhookReceipt, WebhookReceipt.webhook_id.startswith(tag)) == 1
    assert count(engine, DeadReport, DeadReport.reason == tag) == 0
    assert count(engine, HeldReport, HeldReport.gateway_reference == tag) == 0
    # A delivery still being retried stays, whatever its age.
    [kept] = delivery_statuses(engine, subscription_id)
    assert kept == DeliveryStatus.PENDING
