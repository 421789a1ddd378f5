"""Webhook activities: turn an event into deliveries and attempt each once, deliver one, and
mark one failed."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core import metrics
from domain.webhooks import (
    DeliveryFailed,
    DeliveryFailure,
    DeliveryOutcome,
    DeliveryRequest,
    DeliveryStatus,
    EventDeliveries,
    EventResult,
    WebhookEvent,
    delivery_id,
)
from gateways import standard_webhooks
from store import webhooks as store
from store.engine import committed
from store.models import WebhookDelivery, WebhookSubscription
from webhooks.events import event_body
from webhooks.sender import Attempt, Receivers, post_event
from webhooks.targets import TargetRefused, Unresolvable, lookup_within, resolve

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TargetRules:
    https_only: bool
    allow_private: bool
    attempt_seconds: float


class WebhookActivities:
    def __init__(self, engine: Engine, receivers: Receivers, rules: TargetRules) -> None:
        self._engine = engine
        self._receivers = receivers
        self._rules = rules

    @activity.defn
    async def create_deliveries(self, event: WebhookEvent) -> EventDeliveries:
        """One row per active subscription of the tenant, each with the event's exact body."""
        ids = await asyncio.to_thread(self._create, event)
        return EventDeliveries(delivery_ids=ids, attempt_seconds=self._rules.attempt_seconds)

    def _create(self, event: WebhookEvent) -> list[str]:
        body = event_body(event)
        now = datetime.now(UTC)
        shipment_id = event.manifest.shipment_id
        with Session(self._engine) as session:
            rows = [
                WebhookDelivery(
                    id=delivery_id(subscription.id, shipment_id, event.type),
                    subscription_id=subscription.id,
                    event_type=event.type,
                    shipment_id=shipment_id,
                    payload=body,
                    status=DeliveryStatus.PENDING,
                    created_at=now,
                    updated_at=now,
                )
                for subscription in store.active_subscriptions(session, event.org)
            ]
            ids = [row.id for row in rows]
            store.add_deliveries(session, rows)
            session.commit()
        return ids

    @activity.defn
    async def deliver_event(self, event: WebhookEvent) -> EventResult:
        """The event's deliveries, written and each attempted once, together; those that may
        yet succeed are returned, to be retried with backoff. The order's workflow runs it, so
        the first attempts follow the status without a workflow of their own to start first."""
        ids = await asyncio.to_thread(self._create, event)
        outcomes = list(await asyncio.gather(*(self._first_attempt(i) for i in ids)))
        retries = [
            DeliveryRequest(o.delivery_id, self._rules.attempt_seconds, after_first_attempt=True)
            for o in outcomes
            if o.status is DeliveryStatus.PENDING
        ]
        return EventResult(outcomes=outcomes, retries=retries)

    async def _first_attempt(self, delivery_id: str) -> DeliveryOutcome:
        """Never raises: a failure of one delivery's attempt is retried by its own retry
        workflow, where failing the activity would repeat every receiver's first attempt, and
        its retries are the order's, without end."""
        try:
            try:
                return await self._attempt(delivery_id)
            except ApplicationError as refused:
                if not refused.non_retryable:
                    return DeliveryOutcome(delivery_id, DeliveryStatus.PENDING)
                reason = refused.message
            return await self._fail(DeliveryFailed(delivery_id, reason))
        except Exception:
            log.exception("first attempt of webhook delivery %s failed", delivery_id)
        return DeliveryOutcome(delivery_id, DeliveryStatus.PENDING)

    @activity.defn
    async def deliver_webhook(self, request: DeliveryRequest) -> DeliveryOutcome:
        """One attempt; raises to be retried, or non-retryable when retrying cannot help."""
        return await self._attempt(request.delivery_id)

    async def _attempt(self, delivery_id: str) -> DeliveryOutcome:
        found = await asyncio.to_thread(self._target, delivery_id)
        if found is None or found[1].disabled_at is not None:
            raise ApplicationError(
                "the subscription was deleted or disabled",
                type=DeliveryFailure.NO_SUBSCRIPTION,
                non_retryable=True,
            )
        delivery, subscription = found
        if delivery.status == DeliveryStatus.SUCCEEDED:
            # An attempt retried after its receiver had answered 2xx (its worker stopped).
            return DeliveryOutcome(delivery.id, DeliveryStatus.SUCCEEDED)
        try:
            target = await resolve(
                subscription.url,
                within=lookup_within(self._rules.attempt_seconds),
                https_only=self._rules.https_only,
                allow_private=self._rules.allow_private,
            )
        except TargetRefused as refused:
            await self._record(delivery, Attempt(None, str(refused), 0.0), DeliveryStatus.PENDING)
            if isinstance(refused, Unresolvable):
                raise ApplicationError(str(refused), type=DeliveryFailure.REFUSED) from refused
            metrics.count_webhook_delivery("forbidden_target")
            raise ApplicationError(
                str(refused), type=DeliveryFailure.FORBIDDEN_TARGET, non_retryable=True
            ) from refused
        body = delivery.payload.encode()
        headers = standard_webhooks.signed_headers(_keys(subscription), delivery.id, body)
        attempt = await post_event(
            self._receivers, target, headers, body, self._rules.attempt_seconds
        )
        return await self._settle(delivery, subscription, attempt)

    def _target(self, delivery_id: str) -> tuple[WebhookDelivery, WebhookSubscription] | None:
        with Session(self._engine) as session:
            return store.delivery_target(session, delivery_id)

    async def _settle(
        self, delivery: WebhookDelivery, subscription: WebhookSubscription, attempt: Attempt
    ) -> DeliveryOutcome:
        metrics.observe_webhook_attempt(attempt.seconds)
        if attempt.delivered:
            await self._record(delivery, attempt, DeliveryStatus.SUCCEEDED)
            metrics.count_webhook_delivery("delivered")
            metrics.observe_webhook_lag((datetime.now(UTC) - delivery.created_at).total_seconds())
            return DeliveryOutcome(delivery.id, DeliveryStatus.SUCCEEDED)
        if attempt.status_code == 410:
            await self._record(delivery, attempt, DeliveryStatus.FAILED)
            await asyncio.to_thread(
                committed,
                self._engine,
                store.disable_subscription,
                subscription.id,
                datetime.now(UTC),
            )
            metrics.count_webhook_delivery("gone")
            log.warning("webhook subscription %s answered 410: disabled", subscription.id)
            raise ApplicationError(
                "the receiver answered 410 Gone", type=DeliveryFailure.GONE, non_retryable=True
            )
        await self._record(delivery, attempt, DeliveryStatus.PENDING)
        metrics.count_webhook_delivery("retried")
        raise ApplicationError(attempt.error or "not delivered", type=DeliveryFailure.REFUSED)

    async def _record(
        self, delivery: WebhookDelivery, attempt: Attempt, status: DeliveryStatus
    ) -> None:
        await asyncio.to_thread(
            committed,
            self._engine,
            store.record_attempt,
            delivery.id,
            datetime.now(UTC),
            status,
            attempt.status_code,
            attempt.error,
        )

    @activity.defn
    async def fail_delivery(self, data: DeliveryFailed) -> DeliveryOutcome:
        return await self._fail(data)

    async def _fail(self, data: DeliveryFailed) -> DeliveryOutcome:
        await asyncio.to_thread(
            committed,
            self._engine,
            store.finish_delivery,
            data.delivery_id,
            datetime.now(UTC),
            DeliveryStatus.FAILED,
            data.reason,
        )
        metrics.count_webhook_delivery("failed")
        return DeliveryOutcome(data.delivery_id, DeliveryStatus.FAILED)


def _keys(subscription: WebhookSubscription) -> list[bytes]:
    """The secret, and for the overlap after a rotation the one before it."""
    keys = [standard_webhooks.secret_key(subscription.secret)]
    expires = subscription.previous_expires_at
    if subscription.previous_secret and expires is not None and expires > datetime.now(UTC):
        keys.append(standard_webhooks.secret_key(subscription.previous_secret))
    return keys
