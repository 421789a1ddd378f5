"""The handover: give one message to the configured gateway and say what it answered."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio import activity
from temporalio.exceptions import ApplicationError

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

GATEWAY_UNAVAILABLE = "GatewayUnavailable"
DEADLINE_PASSED = "HandoverDeadlinePassed"
HANDOVER_AMBIGUOUS = "HandoverAmbiguous"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandoverInput:
    """`deadline` bounds all attempts together: the caller is answered 503 after it."""

    reference: str
    ttl_seconds: int
    deadline: datetime
    sms: SmsMessage | None = None
    email: EmailMessage | None = None


class HandoverActivities:
    def __init__(self, gateways: Gateways) -> None:
        self._gateways = gateways

    @activity.defn
    async def hand_over(self, data: HandoverInput) -> HandoverResult:
        channel = Channel.SMS if data.sms is not None else Channel.EMAIL
        # The deadline is enforced here: the SDK does not enforce a local activity's
        # schedule-to-close timeout, so retries alone would go on past it.
        remaining = (data.deadline - datetime.now(UTC)).total_seconds()
        if remaining <= 0:
            raise ApplicationError(
                "handover deadline passed", type=DEADLINE_PASSED, non_retryable=True
            )
        try:
            async with asyncio.timeout(remaining):
                receipt = await self._send(data)
        except GatewayUnavailable as exc:
            log.warning("handover of %s not taken: %s", data.reference, exc)
            raise ApplicationError(str(exc), type=GATEWAY_UNAVAILABLE) from exc
        except TimeoutError as exc:
            if self._gateway(data).deduplicates:
                raise ApplicationError(
                    "no answer by the deadline", type=GATEWAY_UNAVAILABLE
                ) from exc
            raise _ambiguous(data, "no answer by the deadline") from exc
        except HandoverAmbiguous as exc:
            raise _ambiguous(data, str(exc)) from exc
        log.info("handover of %s: %s", data.reference, receipt.outcome)
        return HandoverResult(
            status=_status(channel, receipt),
            at=datetime.now(UTC),
            gateway_reference=receipt.gateway_reference,
            detail=receipt.detail,
        )

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


def _ambiguous(data: HandoverInput, reason: str) -> ApplicationError:
    """The message may have left: retrying could send it twice, so the attempt stops here."""
    log.warning("handover of %s unconfirmed: %s", data.reference, reason)
    return ApplicationError(reason, type=HANDOVER_AMBIGUOUS, non_retryable=True)


def _status(channel: Channel, receipt: Receipt) -> str:
    if receipt.outcome is Outcome.ACCEPTED:
        return handed_over(channel)
    if receipt.outcome is Outcome.INVALID_RECIPIENT:
        return refused_recipient(channel)
    if receipt.outcome is Outcome.BARRED:
        return barred(channel)
    return refused(channel)
