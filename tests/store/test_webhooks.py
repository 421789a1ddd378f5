"""Webhook deliveries in the store: an attempt that outlived its activity cannot reopen a
delivery that has ended, nor undo one that was delivered."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.webhooks import DeliveryStatus
from store import webhooks
from store.engine import committed
from store.models import WebhookDelivery
from tests.support.webhooks import delivery_row, subscription_row

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _delivery(engine: Engine) -> str:
    """A pending delivery of a subscription of this test's own."""
    subscription = subscription_row(f"org-{uuid.uuid4().hex[:8]}", NOW)
    delivery = delivery_row(subscription.id, DeliveryStatus.PENDING, NOW)
    delivery_id = delivery.id
    with Session(engine) as session:
        session.add(subscription)
        session.flush()
        session.add(delivery)
        session.commit()
    return delivery_id


def _row(engine: Engine, delivery_id: str) -> WebhookDelivery:
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(WebhookDelivery, delivery_id)
        assert row is not None
        session.expunge(row)
        return row


def test_an_attempt_is_recorded_while_its_delivery_is_pending(engine: Engine) -> None:
    delivery = _delivery(engine)
    committed(engine, webhooks.record_attempt, delivery, NOW, DeliveryStatus.PENDING, 503, "x")
    row = _row(engine, delivery)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 503)


def test_a_late_attempt_leaves_an_ended_delivery_as_it_ended(engine: Engine) -> None:
    delivered, failed = _delivery(engine), _delivery(engine)
    committed(engine, webhooks.record_attempt, delivered, NOW, DeliveryStatus.SUCCEEDED, 204)
    committed(engine, webhooks.finish_delivery, failed, NOW, DeliveryStatus.FAILED, "gave up")
    later = NOW + timedelta(seconds=10)

    for delivery in (delivered, failed):  # the attempts of an activity already given up on
        committed(
            engine, webhooks.record_attempt, delivery, later, DeliveryStatus.PENDING, None, "late"
        )
    committed(engine, webhooks.finish_delivery, delivered, later, DeliveryStatus.FAILED, "late")

    assert (_row(engine, delivered).status, _row(engine, delivered).attempts) == ("succeeded", 1)
    assert (_row(engine, failed).status, _row(engine, failed).last_error) == ("failed", "gave up")


def test_a_late_attempt_that_delivered_says_so_after_the_retries_gave_up(engine: Engine) -> None:
    """Else the store would say failed for an event the receiver has, and a retry from the API
    would send it again."""
    delivery = _delivery(engine)
    committed(engine, webhooks.finish_delivery, delivery, NOW, DeliveryStatus.FAILED, "gave up")

    committed(engine, webhooks.record_attempt, delivery, NOW, DeliveryStatus.SUCCEEDED, 204)

    row = _row(engine, delivery)
    assert (row.status, row.last_status_code, row.attempts) == ("succeeded", 204, 1)
