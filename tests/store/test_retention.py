"""Retention removes completed shipments and report bookkeeping older than its cutoff, in
batches, and nothing else."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.webhooks import DeliveryStatus
from store import order_writes, retention
from store.feed import FeedOrder, number_feed_entries, read_feed
from store.models import (
    DeadReport,
    FeedEntry,
    HeldReport,
    ShipmentEvent,
    WebhookDelivery,
    WebhookReceipt,
)
from tests.support.store import complete, final_event, new_shipment, shipment_row
from tests.support.webhooks import delivery_row, subscription_row

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


def remove_all_old_shipments(engine: Engine) -> int:
    removed = 0
    with Session(engine) as session:
        while batch := retention.remove_old_shipments(session, CUTOFF, size=2):
            session.commit()
            removed += batch
    return removed


def feed_after(engine: Engine, org: str, seq: int) -> list[tuple[int, str]]:
    with Session(engine) as session:
        entries = read_feed(session, org, seq, 100, FeedOrder.ASC)
    return [(int(e.seq or 0), e.shipment_id) for e in entries]


@contextmanager
def numbered_once_chosen(engine: Engine, shipment_id: str) -> Iterator[None]:
    """Number the feed right after retention chooses its shipments and before it deletes them,
    as a completion's writer committing meanwhile would."""
    pending = [shipment_id]

    def number(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if pending and statement.startswith("SELECT shipment.id"):
            number_feed_entries(engine, pending.pop())

    event.listen(engine, "after_cursor_execute", number)
    try:
        yield
    finally:
        event.remove(engine, "after_cursor_execute", number)


def test_feed_numbers_never_repeat_after_retention_removed_the_newest(engine: Engine) -> None:
    org = f"ret{uuid.uuid4().hex[:8]}"
    old = [new_shipment(engine, org, OLD) for _ in range(3)]
    for shipment_id in old:
        complete(engine, shipment_id)
    [*_, (cursor, newest)] = feed_after(engine, org, 0)

    remove_all_old_shipments(engine)
    fresh = new_shipment(engine, org)
    complete(engine, fresh)

    assert newest == old[-1]
    assert shipment_row(engine, org, old[0]) is None
    # A reader at the newest number sees the next completion.
    assert [sid for _, sid in feed_after(engine, org, cursor)] == [fresh]
    # Once a newer entry holds the highest number, the one kept for it goes too.
    assert remove_all_old_shipments(engine) == 1
    assert shipment_row(engine, org, old[-1]) is None


def test_a_completion_numbered_while_retention_runs_is_kept(engine: Engine) -> None:
    org = f"ret{uuid.uuid4().hex[:8]}"
    numbered, unnumbered = new_shipment(engine, org, OLD), new_shipment(engine, org, OLD)
    complete(engine, numbered)
    # Committed, not numbered yet (on PostgreSQL; SQLite numbers it with the insert).
    order_writes.record_event(engine, final_event(unnumbered), None, None)

    with numbered_once_chosen(engine, unnumbered):
        remove_all_old_shipments(engine)
    [*_, (cursor, seen)] = feed_after(engine, org, 0)
    fresh = new_shipment(engine, org)
    complete(engine, fresh)

    assert seen == unnumbered
    assert [sid for _, sid in feed_after(engine, org, cursor)] == [fresh]
    remove_all_old_shipments(engine)
    assert shipment_row(engine, org, numbered) is None
    assert shipment_row(engine, org, unnumbered) is None


def test_old_bookkeeping_goes_in_batches(engine: Engine) -> None:
    tag = uuid.uuid4().hex
    subscription = subscription_row(tag, OLD)
    subscription_id = subscription.id
    with Session(engine) as session:
        session.add(subscription)
        session.flush()
        for status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.PENDING):
            session.add(delivery_row(subscription_id, status, OLD, shipment_id=tag))
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
