"""The handover: give one message to the configured gateway and say what it answered."""

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.failures import handover_error
from activities.records import RecordActivities, ShipmentInput, TransitionInput
from core import metrics
from domain.deadlines import LONGEST_BACKOFF
from domain.failures import FailureKind, HandoverFailure
from domain.handover import HandoverResult
from domain.orders import Channel, EmailMessage, SmsMessage
from domain.statuses import barred, handed_over, refused, refused_recipient
from gateways.base import (
    EmailGateway,
    EmailSend,
    GatewayUnavailable,
    HandoverAmbiguous,
    Outcome,
    Receipt,
    SmsGateway,
    SmsSend,
)
from gateways.registry import Gateways

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)


@dataclass(frozen=True)
class HandoverInput:
    """`deadline` bounds all attempts together: the caller is answered 503 after it.

    `shipment` is the order's row, written (rate limits checked) before anything is sent; a
    retry finds it written and goes straight to the gateway, and a first attempt that finds it
    knows an earlier execution may have sent. With `record_as`, the outcome is recorded too,
    as that event of the shipment's history. Each local activity costs the caller
    several milliseconds of round trips, so the order path is this one activity.
    """

    reference: str
    ttl_seconds: int
    deadline: datetime
    sms: SmsMessage | None = None
    email: EmailMessage | None = None
    shipment: ShipmentInput | None = None
    record_as: int | None = None


class HandoverActivities:
    def __init__(
        self,
        gateways: Gateways,
        providers: Mapping[Channel, str] | None = None,
        records: RecordActivities | None = None,
    ) -> None:
        """`providers` names the provider behind each channel in metrics and traces."""
        self._gateways = gateways
        self._providers = providers or {}
        self._records = records

    @activity.defn
    async def hand_over(self, data: HandoverInput) -> HandoverResult:
        channel = Channel.SMS if data.sms is not None else Channel.EMAIL
        resumed = await self._write_row(data)
        if resumed and not self._gateway(data).deduplicates:
            raise _ambiguous(data, "an earlier execution stopped during the handover")
        # A resumed send repeats one the gateway may already hold: it only settles the outcome,
        # so the caller's deadline does not stop it; the gateway's own timeout bounds it.
        remaining = None if resumed else _time_left(data.deadline)
        provider = self._providers.get(channel, "unnamed")
        with _tracer.start_as_current_span(
            f"send {channel} via {provider}",
            kind=SpanKind.CLIENT,
            attributes={"notifications.channel": channel, "notifications.provider": provider},
        ) as span:
            started = time.perf_counter()
            try:
                receipt = await self._attempt(data, remaining)
            except ApplicationError as err:
                outcome = "ambiguous" if err.type == FailureKind.AMBIGUOUS else "unavailable"
                metrics.observe_handover(provider, outcome, time.perf_counter() - started)
                raise
            metrics.observe_handover(provider, receipt.outcome, time.perf_counter() - started)
            span.set_attribute("notifications.outcome", receipt.outcome)
        log.info("handover of %s: %s", data.reference, receipt.outcome)
        result = HandoverResult(
            status=_status(channel, receipt),
            at=datetime.now(UTC),
            gateway_reference=receipt.gateway_reference,
            detail=receipt.detail,
        )
        return await self._record_outcome(data, result)

    async def _write_row(self, data: HandoverInput) -> bool:
        """Write the order's row; say whether an earlier execution of this handover got as far.

        The row found at a first attempt means the worker that ran the handover before stopped
        (a crash, a lost workflow task) after writing it, perhaps after sending. A retry after
        an unavailable gateway also finds it, but at a later attempt, and nothing was sent then.
        """
        if data.shipment is None or self._records is None:
            return False
        record = await asyncio.to_thread(self._records.record_shipment, data.shipment)
        return not record.inserted and activity.info().attempt == 1

    async def _record_outcome(self, data: HandoverInput, result: HandoverResult) -> HandoverResult:
        """Record what the gateway said. The message has left: a failure here must not fail the
        activity (a retry would send again), so the workflow records it itself instead."""
        if data.shipment is None or data.record_as is None or self._records is None:
            return result
        outcome = TransitionInput(
            shipment_id=data.shipment.shipment_id,
            number=data.record_as,
            kind="handover",
            applied=True,
            at=result.at,
            status=result.status,
            gateway_reference=result.gateway_reference,
            detail=result.detail,
            org=data.shipment.org,
        )
        try:
            recorded = await asyncio.to_thread(self._records.record_transition, outcome)
        except Exception:
            log.warning(
                "handover of %s not recorded; the workflow retries", data.reference, exc_info=True
            )
            return result
        return replace(
            result,
            recorded=True,
            recorded_at=recorded.recorded_at,
            held_reports=recorded.reports,
            webhooks=recorded.webhooks,
            sequence_number=recorded.sequence_number,
        )

    async def _attempt(self, data: HandoverInput, remaining: float | None) -> Receipt:
        """One send; every failure becomes an ApplicationError that says whether to retry."""
        try:
            async with asyncio.timeout(remaining):
                return await self._send(data)
        except (GatewayUnavailable, TimeoutError, HandoverAmbiguous) as exc:
            if remaining is None:  # resumed: an earlier execution may have sent it
                raise _ambiguous(data, str(exc) or "no answer") from exc
            raise self._failure(data, exc) from exc

    def _failure(self, data: HandoverInput, exc: Exception) -> ApplicationError:
        """Retry what cannot send twice: a refusal, or any failure where the gateway
        recognises a repeat; otherwise a failure after the request left ends the handover."""
        reason = str(exc) or "no answer by the deadline"
        if not isinstance(exc, GatewayUnavailable) and not self._gateway(data).deduplicates:
            return _ambiguous(data, reason)
        log.warning("handover of %s not taken: %s", data.reference, reason)
        last = _seconds_left(data.deadline) < LONGEST_BACKOFF.total_seconds()
        return handover_error(HandoverFailure(FailureKind.NOT_TAKEN, reason), final=last)

    def _gateway(self, data: HandoverInput) -> SmsGateway | EmailGateway:
        return self._gateways.sms if data.sms is not None else self._gateways.email

    async def _send(self, data: HandoverInput) -> Receipt:
        if data.sms is not None:
            return await self._gateways.sms.send_sms(
                SmsSend(
                    data.reference,
                    data.sms.phone_number,
                    data.sms.sender,
                    data.sms.body,
                    data.ttl_seconds,
                )
            )
        assert data.email is not None
        return await self._gateways.email.send_email(
            EmailSend(
                data.reference,
                data.email.address,
                data.email.sender_address,
                data.email.subject,
                data.email.body,
                data.email.content_type,
            )
        )


def _time_left(deadline: datetime) -> float:
    """Seconds to the handover deadline, which is enforced here: the SDK does not enforce a
    local activity's schedule-to-close timeout, so retries alone would go on past it."""
    remaining = _seconds_left(deadline)
    if remaining <= 0:
        raise handover_error(
            HandoverFailure(FailureKind.DEADLINE_PASSED, "handover deadline passed")
        )
    return remaining


def _seconds_left(deadline: datetime) -> float:
    return (deadline - datetime.now(UTC)).total_seconds()


def _ambiguous(data: HandoverInput, reason: str) -> ApplicationError:
    """The message may have left: retrying could send it twice, so the attempt stops here."""
    log.warning("handover of %s unconfirmed: %s", data.reference, reason)
    return handover_error(HandoverFailure(FailureKind.AMBIGUOUS, reason))


def _status(channel: Channel, receipt: Receipt) -> str:
    if receipt.outcome is Outcome.ACCEPTED:
        return handed_over(channel)
    if receipt.outcome is Outcome.INVALID_RECIPIENT:
        return refused_recipient(channel)
    if receipt.outcome is Outcome.BARRED:
        return barred(channel)
    return refused(channel)
