"""Webhook events: their types, the ids that make them idempotent, and the delivery timings."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.manifest import ShipmentManifest

# Any constant UUID: delivery ids are derived from it, so every retry finds the same row.
_DELIVERY_NAMESPACE = uuid.UUID("5d0b9a3e-6c55-4f0e-9a52-8f3b7a1c2d40")

# Retries back off from 1 s, doubling up to an hour apart, and go on for at least 24 hours.
FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(hours=1)
RETRY_WINDOW = timedelta(hours=25)
# How long one attempt may take to resolve the receiver's host, and again to have its answer.
ATTEMPT_SECONDS = 10.0
# After a rotation the old secret signs beside the new one for this long.
SECRET_OVERLAP = timedelta(hours=24)


class EventType(StrEnum):
    ACCEPTED = "shipment.accepted"
    COMPLETED = "shipment.completed"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DeliveryFailure(StrEnum):
    """ApplicationError types of a delivery attempt; all but REFUSED end the delivery."""

    REFUSED = "WebhookRefused"  # no 2xx: retried with backoff
    GONE = "WebhookGone"  # 410: the subscription is disabled
    FORBIDDEN_TARGET = "WebhookForbiddenTarget"  # the target rules refuse the URL
    NO_SUBSCRIPTION = "WebhookNoSubscription"  # deleted or disabled meanwhile


def webhook_task_queue(order_task_queue: str) -> str:
    """Deliveries run on a task queue of their own, so a slow receiver never takes order slots."""
    return f"{order_task_queue}-webhooks"


def event_workflow_id(shipment_id: str, event: EventType) -> str:
    return f"webhook-event/{shipment_id}/{event}"


def retry_workflow_id(delivery_id: str) -> str:
    return f"webhook-retry/{delivery_id}"


def delivery_id(subscription_id: str, shipment_id: str, event: str) -> str:
    """Stable for one event to one subscription: it is also the `webhook-id` receivers see."""
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{subscription_id}/{shipment_id}/{event}"))


@dataclass(frozen=True)
class WebhookEvent:
    """`sequence_number` is the feed entry's, for `shipment.completed`."""

    org: str
    type: EventType
    manifest: ShipmentManifest
    occurred_at: datetime
    sequence_number: int | None = None


@dataclass(frozen=True)
class EventDeliveries:
    """The deliveries of one event, and how long one attempt may take on this deployment."""

    delivery_ids: list[str]
    attempt_seconds: float


@dataclass(frozen=True)
class DeliveryRequest:
    """`after_first_attempt`: the order's workflow made the first attempt, so the retries
    begin a backoff step later."""

    delivery_id: str
    attempt_seconds: float
    after_first_attempt: bool = False


@dataclass(frozen=True)
class DeliveryOutcome:
    delivery_id: str
    status: DeliveryStatus


@dataclass(frozen=True)
class DeliveryFailed:
    """Retries are over (or were cut short by `reason`): the delivery is marked failed."""

    delivery_id: str
    reason: str | None = None


@dataclass(frozen=True)
class EventResult:
    """`retries`: the deliveries whose first attempt failed, to be retried with backoff."""

    outcomes: list[DeliveryOutcome]
    retries: list[DeliveryRequest] = field(default_factory=list)


def attempt_budget(attempt_seconds: float) -> timedelta:
    """An attempt resolves the host and posts, each bounded by the attempt time, then records."""
    return timedelta(seconds=2 * attempt_seconds + 2)
