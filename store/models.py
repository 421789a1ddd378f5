"""Tables: one shipment row per order, its status history, the feed, and report bookkeeping."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    TypeDecorator,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

MAX_DETAIL = 500
# What a provider says of a message (a state and its code), kept cut to this width.
MAX_PROVIDER_STATUS = 64
# An id a provider gives (its message id, a report's or a webhook's id); store/widths.py fits a
# longer one.
MAX_PROVIDER_ID = 255

# Named constraints let a later migration drop or alter them by name on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """SQLite forgets time zones; every timestamp in and out of the store is UTC-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stamp: datetime = value
        return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UtcDateTime, **kwargs)


class Shipment(SQLModel, table=True):
    __tablename__ = "shipment"
    __table_args__ = (
        UniqueConstraint("org", "idempotency_id", name="uq_shipment_org_key"),
        # The rate limits count recent orders per tenant and per (tenant, recipient).
        Index("ix_shipment_org_created", "org", "created_at"),
        Index("ix_shipment_org_recipient_created", "org", "recipient_key", "created_at"),
        # Retention finds the oldest orders of every tenant.
        Index("ix_shipment_created", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(max_length=36)
    org: str = Field(max_length=64)
    idempotency_id: str = Field(max_length=255)
    workflow_id: str = Field(max_length=400)
    reference: str = Field(unique=True, max_length=64)
    fingerprint: str = Field(max_length=64)
    channel: str = Field(max_length=8)
    destination: str = Field(max_length=320)
    # The handset or mailbox `destination` reaches (domain/recipients.py), which the recipient
    # limit counts by; `destination` stays as the caller wrote it, as it is shown.
    # Nullable only so that adding it to a large table rewrote nothing (migration 0011).
    recipient_key: str | None = Field(default=None, max_length=320)
    senders_reference: str | None = Field(default=None, max_length=1024)
    status: str = Field(max_length=40)
    order_status: str = Field(max_length=40)
    gateway_reference: str | None = Field(default=None, index=True, max_length=MAX_PROVIDER_ID)
    # The provider the handover asks (written before each send), so a handover resumed after its
    # worker stopped asks no other; after the handover, the provider that took the message.
    provider: str | None = Field(default=None, max_length=32)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    last_update: datetime = _utc()
    # The handover execution that holds the row: set by each one that resumes it, so that an
    # earlier one, frozen and woken, can name no other provider (None: the one that wrote it).
    handover_token: str | None = Field(default=None, max_length=36)
    # Reports that decide nothing given to the order's workflow so far (None: none), up to
    # the inbox's cap (`api.reports_inbox.REPORTS_PER_ORDER`).
    reports_signalled: int | None = Field(default=None)


class ShipmentEvent(SQLModel, table=True):
    """Every status decision and every report, applied or ignored: the shipment's history."""

    __tablename__ = "shipment_event"
    __table_args__ = (UniqueConstraint("shipment_id", "number", name="uq_event_number"),)

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: str = Field(foreign_key="shipment.id", index=True, ondelete="CASCADE")
    number: int | None = Field(default=None)
    kind: str = Field(max_length=16)
    status: str | None = Field(default=None, max_length=40)
    applied: bool
    provider: str | None = Field(default=None, max_length=32)
    provider_status: str | None = Field(default=None, max_length=MAX_PROVIDER_STATUS)
    report_id: str | None = Field(default=None, max_length=MAX_PROVIDER_ID)
    # What the gateway said with its answer (a refusal's reason), for operators.
    detail: str | None = Field(default=None, max_length=MAX_DETAIL)
    at: datetime = _utc()


class FeedEntry(SQLModel, table=True):
    """One row per completed shipment. `seq`, the feed cursor, is given after the row is
    committed, to every committed row without one at once (store/feed.py): readers see numbers
    appear only in order, and writers do not wait for each other's commits."""

    __tablename__ = "feed_entry"
    __table_args__ = (
        # Pages of one tenant's feed, either way, from any cursor.
        Index("ix_feed_entry_org_seq", "org", "seq", unique=True),
        Index(
            "ix_feed_entry_unnumbered",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    seq: int | None = Field(default=None, unique=True, sa_type=BigInteger)
    shipment_id: str = Field(foreign_key="shipment.id", unique=True, ondelete="CASCADE")
    org: str = Field(max_length=64)
    senders_reference: str | None = Field(default=None, max_length=1024)
    order_status: str = Field(max_length=40)
    channel: str = Field(max_length=8)
    destination: str = Field(max_length=320)
    status: str = Field(max_length=40)
    last_update: datetime = _utc()


class DeadReport(SQLModel, table=True):
    """A verified report that matched no shipment, or could not be read: kept, never dropped."""

    __tablename__ = "dead_report"

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=32)
    reference: str | None = Field(default=None, max_length=MAX_PROVIDER_ID)
    reason: str = Field(max_length=64)
    payload: str
    received_at: datetime = _utc(index=True)


class WebhookReceipt(SQLModel, table=True):
    """Webhook ids taken for processing, so a replayed delivery is recognised and ignored;
    `done` once its reports were delivered (store/reports.py: a delivery cut off is not lost)."""

    __tablename__ = "webhook_receipt"

    webhook_id: str = Field(primary_key=True, max_length=MAX_PROVIDER_ID)
    received_at: datetime = _utc(index=True)
    done: bool = Field(default=True, sa_column_kwargs={"server_default": true()})


class HeldReport(SQLModel, table=True):
    """A verified report naming a gateway reference that no shipment carries yet (it outran the
    record of its handover): applied once that handover is recorded, by whichever comes first,
    the workflow recording the reference or the inbox finding it recorded."""

    __tablename__ = "held_report"

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=32)
    gateway_reference: str = Field(index=True, max_length=MAX_PROVIDER_ID)
    report: str
    received_at: datetime = _utc(index=True)
    shipment_id: str | None = Field(default=None, index=True, max_length=36)
    claimed_by: str | None = Field(default=None, max_length=16)


class WebhookSubscription(SQLModel, table=True):
    """Where a tenant wants its shipments' events pushed, and the secrets that sign them.

    The secrets must be readable to sign with; they are never shown after creation or rotation.
    """

    __tablename__ = "webhook_subscription"

    id: str = Field(primary_key=True, max_length=36)
    org: str = Field(index=True, max_length=64)
    url: str = Field(max_length=2048)
    description: str | None = Field(default=None, max_length=500)
    secret: str = Field(max_length=100)
    # The secret before the last rotation, which still signs until `previous_expires_at`.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_expires_at: datetime | None = _utc(default=None, nullable=True)
    created_at: datetime = _utc()
    # Set when the receiver answered 410 Gone: no event is delivered to it any more.
    disabled_at: datetime | None = _utc(default=None, nullable=True)


class WebhookDelivery(SQLModel, table=True):
    """One event to one subscription; its id is the `webhook-id` of every attempt."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_subscription_status", "subscription_id", "status"),
        # Retention removes finished deliveries by their age.
        Index("ix_webhook_delivery_created", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    subscription_id: str = Field(
        foreign_key="webhook_subscription.id", ondelete="CASCADE", max_length=36
    )
    event_type: str = Field(max_length=32)
    shipment_id: str = Field(max_length=36)
    # The exact body of every attempt, so a retry sends the same event.
    payload: str
    status: str = Field(max_length=16)
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=MAX_DETAIL)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class ProviderCircuit(SQLModel, table=True):
    """The circuit of one provider of one channel in one worker process, as that worker last
    reported it: the API's readiness tells operators which providers are being skipped."""

    __tablename__ = "provider_circuit"

    worker: str = Field(primary_key=True, max_length=128)
    channel: str = Field(primary_key=True, max_length=8)
    provider: str = Field(primary_key=True, max_length=32)
    state: str = Field(max_length=16)
    failures: int
    open_until: datetime | None = _utc(default=None)
    changed_at: datetime = _utc()
