"""The handover: give one message to the first of the channel's providers that takes it, and say
what that provider answered."""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.failover import Attempt, Failover, G, handover_name, write_by
from activities.failures import handover_error
from activities.records import RecordActivities, ShipmentInput, TransitionInput
from core.redaction import without_message
from domain.failures import FailureKind, HandoverFailure
from domain.handover import HandoverResult
from domain.orders import Channel, EmailMessage, SmsMessage
from domain.statuses import barred, handed_over, refused, refused_recipient
from gateways.base import EmailGateway, EmailSend, NamesBeforeSending, Outcome, Receipt, SmsSend
from gateways.html_text import alternatives
from gateways.registry import Gateways, Route
from store.engine import seconds_until

log = logging.getLogger(__name__)


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

    @property
    def shipment_id(self) -> str | None:
        return self.shipment.shipment_id if self.shipment is not None else None


class HandoverActivities:
    def __init__(
        self,
        gateways: Gateways,
        records: RecordActivities | None = None,
        worker: str = "worker",
    ) -> None:
        """`worker` names this process where it reports its providers' circuits."""
        self._gateways = gateways
        self._records = records
        self._failover = Failover(records, worker)

    @activity.defn
    async def hand_over(self, data: HandoverInput) -> HandoverResult:
        if data.sms is not None:
            sms = _sms(data, data.sms)
            result = await self._through(
                data, Channel.SMS, self._gateways.sms, lambda g: g.send_sms(sms)
            )
        else:
            assert data.email is not None
            email = _email(data, data.email)

            def named(gateway: EmailGateway) -> str | None:
                if isinstance(gateway, NamesBeforeSending):
                    return gateway.reference_of(email)
                return None

            result = await self._through(
                data, Channel.EMAIL, self._gateways.email, lambda g: g.send_email(email), named
            )
        return await self._record_outcome(data, result)

    async def _through(
        self,
        data: HandoverInput,
        channel: Channel,
        routes: Sequence[Route[G]],
        send: Callable[[G], Awaitable[Receipt]],
        reference_at: Callable[[G], str | None] = lambda _: None,
    ) -> HandoverResult:
        """What the provider that answered said; or that answer as an earlier attempt recorded
        it."""
        first = next((r.name for r in routes if r.breaker.admits()), routes[0].name)
        resumed, named, token = await self._write_row(data, first)
        attempt = Attempt(
            data.reference, channel, data.deadline, send, data.shipment_id, token, reference_at
        )
        if resumed:
            # Cut off after recording the answer (by its timeout, say): asking again could
            # only end as "may have been sent", where the answer is known.
            earlier = await self._recorded(data)
            if earlier is not None:
                return earlier
            route, receipt = await self._failover.resume(attempt, routes, named)
            return _result(data, channel, route.name, receipt)
        _time_left(data.deadline)
        try:
            route, receipt = await self._failover.first_to_take(attempt, routes, named)
        except ApplicationError as err:
            if not err.non_retryable:
                await self._unname(attempt)
            raise
        return _result(data, channel, route.name, receipt)

    async def _write_row(
        self, data: HandoverInput, first: str
    ) -> tuple[bool, str | None, str | None]:
        """Write the order's row, naming the provider about to be asked; say whether an earlier
        execution of this handover may have sent, which provider the row names, and this
        execution's hold on the row.

        A row found naming a provider means an earlier attempt stopped after writing it,
        perhaps after sending: a crash, a lost workflow task, or an attempt cut off by its
        timeout while it recorded the provider's answer. An attempt after which nothing was
        sent names none (`_unname`). A row found is taken over: the earlier execution, should
        it still run (frozen, then woken), can name no other provider. Past the deadline no
        row is inserted: no provider will be asked, and an attempt that finds none sent nothing.
        """
        if data.shipment is None or self._records is None:
            return False, first, None
        shipment_id = data.shipment.shipment_id
        if seconds_until(data.deadline) > 0:
            # By the deadline itself: a row inserted later would name a provider no one asks.
            row = replace(data.shipment, provider=first)
            record = await asyncio.to_thread(self._records.record_shipment, row, data.deadline)
            if record.inserted:
                return False, first, None
        token, by = str(uuid.uuid4()), write_by(data.deadline)
        named = await asyncio.to_thread(self._records.take_over, shipment_id, token, by)
        return named is not None, named, token

    async def _recorded(self, data: HandoverInput) -> HandoverResult | None:
        if data.shipment is None or data.record_as is None or self._records is None:
            return None
        shipment_id, number = data.shipment.shipment_id, data.record_as
        return await asyncio.to_thread(self._records.recorded_handover, shipment_id, number)

    async def _unname(self, attempt: Attempt[G]) -> None:
        """After an attempt that no provider took (the only failure a later attempt retries),
        so that the next one starts afresh; should this fail, it resumes, which never sends
        twice. Not if another execution holds the row now."""
        if attempt.shipment_id is not None and self._records is not None:
            await asyncio.to_thread(
                self._records.assign_provider,
                attempt.shipment_id,
                None,
                attempt.token,
                write_by(attempt.deadline),
            )

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
            provider=result.provider,
            detail=result.detail,
            org=data.shipment.org,
        )
        try:
            recorded = await asyncio.to_thread(self._records.record_transition, outcome)
        except Exception:
            log.warning(
                "handover of %s not recorded; the workflow retries",
                handover_name(data.reference, outcome.shipment_id),
                exc_info=True,
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


def _result(
    data: HandoverInput, channel: Channel, provider: str, receipt: Receipt
) -> HandoverResult:
    log.info(
        "handover of %s via %s: %s",
        handover_name(data.reference, data.shipment_id),
        provider,
        receipt.outcome,
    )
    return HandoverResult(
        status=_status(channel, receipt),
        at=datetime.now(UTC),
        gateway_reference=receipt.gateway_reference,
        detail=receipt.detail and without_message(receipt.detail, _texts(data)),
        provider=provider,
    )


def _texts(data: HandoverInput) -> list[str]:
    """What of the message carries the code: the detail is recorded and kept in Temporal."""
    email = data.email
    if email is not None:
        # The plain text sent beside HTML may hold a code the HTML spreads over elements.
        text, _ = alternatives(email.body, email.content_type)
        return [email.body, email.subject, text]
    return [data.sms.body] if data.sms is not None else []


def _sms(data: HandoverInput, sms: SmsMessage) -> SmsSend:
    return SmsSend(data.reference, sms.phone_number, sms.sender, sms.body, data.ttl_seconds)


def _email(data: HandoverInput, email: EmailMessage) -> EmailSend:
    return EmailSend(
        data.reference,
        email.address,
        email.sender_address,
        email.subject,
        email.body,
        email.content_type,
        shipment_id=data.shipment_id or "",
    )


def _time_left(deadline: datetime) -> None:
    """The handover deadline is enforced here: the SDK does not enforce a local activity's
    schedule-to-close timeout, so retries alone would go on past it. A resumed handover checks
    it in `Failover.resume`: past it, it ends "may have been sent" without asking."""
    if seconds_until(deadline) <= 0:
        raise handover_error(
            HandoverFailure(FailureKind.DEADLINE_PASSED, "handover deadline passed")
        )


def _status(channel: Channel, receipt: Receipt) -> str:
    if receipt.outcome is Outcome.ACCEPTED:
        return handed_over(channel)
    if receipt.outcome is Outcome.INVALID_RECIPIENT:
        return refused_recipient(channel)
    if receipt.outcome is Outcome.BARRED:
        return barred(channel)
    return refused(channel)
