"""Record activities: the workflow's writes to the store, each one idempotent under retries."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from activities.failures import handover_error
from core import metrics
from domain.failures import FailureKind, HandoverFailure
from domain.handover import HandoverResult
from domain.reports import DeliveryReport
from domain.statuses import is_final
from gateways.breaker import CircuitView
from store import circuits, feed, order_writes, shipments
from store import reports as report_store
from store.engine import committed, committed_within
from store.limits import Limit
from store.models import ProviderCircuit, Shipment


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
    provider: str | None = None


@dataclass(frozen=True)
class ShipmentRecord:
    """`inserted`: the row is new; otherwise an earlier execution wrote it (`take_over`)."""

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
    detail: str | None = None
    # The tenant, to tell the workflow whether it has webhook subscriptions.
    org: str | None = None


@dataclass(frozen=True)
class TransitionResult:
    """`recorded_at` is this worker's clock after the commit: the workflow's clock stands
    still while local activities run, and timers started after them must not start late.
    `reports` arrived for the gateway reference before this transition recorded it.
    `webhooks` says the tenant has an active webhook subscription (for an applied status of
    an input with `org`), and `sequence_number` is the feed entry of a final status."""

    recorded: bool
    recorded_at: datetime | None = None
    reports: list[DeliveryReport] = field(default_factory=list)
    webhooks: bool = False
    sequence_number: int | None = None


@dataclass(frozen=True)
class DiscardInput:
    shipment_id: str


@dataclass(frozen=True)
class DiscardResult:
    shipment_id: str


@dataclass(frozen=True)
class FindInput:
    shipment_id: str


@dataclass(frozen=True)
class FindResult:
    found: bool


class RecordActivities:
    def __init__(self, engine: Engine, limits: list[Limit] | None = None) -> None:
        self._engine = engine
        self._limits = limits or []

    def record_shipment(self, data: ShipmentInput, by: datetime) -> ShipmentRecord:
        """The order's row, written by the handover before it sends (not an activity of its
        own: each local activity costs the caller several milliseconds of round trips). This
        and the two writes below end by `by`, or fail writing nothing."""
        row = {"id": data.shipment_id, "last_update": data.created_at}
        row.update(_without(data, "shipment_id"))
        try:
            written = order_writes.insert_shipment(self._engine, row, self._limits, by)
        except shipments.KeyAlreadyUsedError as taken:
            raise handover_error(
                HandoverFailure(
                    FailureKind.KEY_ALREADY_USED, "another order holds this idempotency key"
                )
            ) from taken
        refusal = written.refusal
        if refusal is not None:
            raise handover_error(
                HandoverFailure(
                    FailureKind.RATE_LIMITED,
                    f"over the {refusal.scope} rate limit",
                    scope=refusal.scope,
                    retry_after_seconds=refusal.retry_after_seconds,
                )
            )
        return ShipmentRecord(inserted=written.inserted)

    def recorded_handover(self, shipment_id: str, number: int) -> HandoverResult | None:
        """What an earlier attempt of the handover recorded as the provider's answer."""
        with Session(self._engine) as session:
            return shipments.recorded_handover(session, shipment_id, number)

    def assign_provider(
        self, shipment_id: str, provider: str | None, token: str | None, by: datetime
    ) -> bool:
        """Before the handover asks another provider than the row names; None after an
        attempt that sent nothing. False when another execution holds the row."""
        named: bool = committed_within(
            self._engine, by, shipments.assign_provider, shipment_id, provider, token
        )
        return named

    def take_over(self, shipment_id: str, token: str, by: datetime) -> str | None:
        """A resumed handover holds the row from now on; the provider the row names."""
        provider: str | None = committed_within(
            self._engine, by, shipments.take_over, shipment_id, token
        )
        return provider

    def report_circuit(self, worker: str, view: CircuitView, by: datetime) -> None:
        """A change of a provider's circuit in this worker, for the API's readiness; ended by
        `by` or not written (a later one would overwrite a newer change)."""
        now = datetime.now(UTC)
        circuit = ProviderCircuit(
            worker=worker,
            channel=view.channel,
            provider=view.provider,
            state=view.state,
            failures=view.failures,
            open_until=now + timedelta(seconds=view.open_for_seconds)
            if view.open_for_seconds
            else None,
            changed_at=now,
        )
        committed_within(self._engine, by, circuits.report_circuit, circuit)

    @activity.defn
    def record_transition(self, data: TransitionInput) -> TransitionResult:
        event = _without(data, "gateway_reference", "org")
        held: list[DeliveryReport] = []
        sequence_number = None
        recorded, webhooks = order_writes.record_event(
            self._engine, event, data.gateway_reference, data.org
        )
        if data.gateway_reference is not None and not (data.applied and data.status):
            # Not applied, so not written with the event: the name an unconfirmed handover
            # knows the message by, before the reports held for it are claimed.
            committed(
                self._engine,
                shipments.name_gateway_reference,
                data.shipment_id,
                data.gateway_reference,
            )
        if data.applied and data.status is not None and is_final(data.status):
            # Also on a retry: an earlier attempt may have stopped between the two commits.
            sequence_number = feed.number_feed_entries(self._engine, data.shipment_id)
        if data.gateway_reference is not None:
            held = report_store.claim_held_reports(
                self._engine, data.gateway_reference, data.shipment_id
            )
        now = datetime.now(UTC)
        if recorded:
            _observe(data, now)
        return TransitionResult(
            recorded=recorded,
            recorded_at=now,
            reports=held,
            webhooks=webhooks,
            sequence_number=sequence_number,
        )

    @activity.defn
    def discard_shipment(self, data: DiscardInput) -> DiscardResult:
        committed(self._engine, shipments.delete_shipment, data.shipment_id)
        return DiscardResult(shipment_id=data.shipment_id)

    @activity.defn
    def find_shipment(self, data: FindInput) -> FindResult:
        """Whether the order's row is written: the handover writes it before any send."""
        with Session(self._engine) as session:
            return FindResult(found=session.get(Shipment, data.shipment_id) is not None)


def _observe(data: TransitionInput, recorded_at: datetime) -> None:
    """Counted once per event: a retry finds the event recorded and is not counted again."""
    if data.applied and data.status is not None and is_final(data.status):
        metrics.count_final_status(data.status)
    if data.kind == "report" and data.provider is not None:
        metrics.observe_report_lag(data.provider, (recorded_at - data.at).total_seconds())


def _without(data: object, *names: str) -> dict[str, Any]:
    return {k: v for k, v in vars(data).items() if k not in names}
