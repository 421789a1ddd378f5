"""Record activities: the workflow's writes to the store, each one idempotent under retries."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from store import shipments
from store.models import Shipment, ShipmentEvent

KEY_ALREADY_USED = "KeyAlreadyUsed"


@dataclass(frozen=True)
class ShipmentInput:
    shipment_id: str
    order_id: str
    org: str
    idempotency_id: str
    workflow_id: str
    reference: str
    fingerprint: str
    channel: str
    destination: str
    status: str
    order_status: str
    created_at: datetime
    expires_at: datetime
    senders_reference: str | None = None


@dataclass(frozen=True)
class ShipmentRecord:
    inserted: bool


@dataclass(frozen=True)
class TransitionInput:
    """One event in a shipment's life; `applied` says whether it changes the status."""

    shipment_id: str
    number: int
    kind: str
    applied: bool
    at: datetime
    status: str | None = None
    gateway_reference: str | None = None
    provider: str | None = None
    provider_status: str | None = None
    report_id: str | None = None


@dataclass(frozen=True)
class TransitionResult:
    """`recorded_at` is this worker's clock after the commit: the workflow's clock stands
    still while local activities run, and timers started after them must not start late."""

    recorded: bool
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class DiscardInput:
    shipment_id: str


@dataclass(frozen=True)
class DiscardResult:
    shipment_id: str


class RecordActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn
    def record_shipment(self, data: ShipmentInput) -> ShipmentRecord:
        row = Shipment(
            id=data.shipment_id, last_update=data.created_at, **_without(data, "shipment_id")
        )
        with Session(self._engine) as session:
            try:
                inserted = shipments.insert_shipment(session, row)
            except shipments.KeyAlreadyUsedError as taken:
                raise ApplicationError(
                    "another order holds this idempotency key",
                    type=KEY_ALREADY_USED,
                    non_retryable=True,
                ) from taken
            session.commit()
        return ShipmentRecord(inserted=inserted)

    @activity.defn
    def record_transition(self, data: TransitionInput) -> TransitionResult:
        event = ShipmentEvent(**_without(data, "gateway_reference"))
        with Session(self._engine) as session:
            recorded = shipments.record_event(session, event, data.gateway_reference)
            session.commit()
        return TransitionResult(recorded=recorded, recorded_at=datetime.now(UTC))

    @activity.defn
    def discard_shipment(self, data: DiscardInput) -> DiscardResult:
        with Session(self._engine) as session:
            shipments.delete_shipment(session, data.shipment_id)
            session.commit()
        return DiscardResult(shipment_id=data.shipment_id)


def _without(data: object, *names: str) -> dict[str, Any]:
    return {k: v for k, v in vars(data).items() if k not in names}
