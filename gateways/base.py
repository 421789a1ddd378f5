"""The two interfaces every provider implements: a sender and a delivery-report reader."""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from domain.orders import ContentType
from domain.reports import DeliveryReport


class GatewayUnavailable(Exception):
    """The gateway did not take the message this time; trying again cannot send it twice."""


class HandoverAmbiguous(Exception):
    """The request may have reached a gateway that cannot recognise a repeat: not retried."""


class ReportRejected(Exception):
    """The request is not a genuine report from this provider (signature, credentials, age)."""


class ReportUnreadable(Exception):
    """A genuine request whose content we cannot understand; it is kept as a dead report."""


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    INVALID_RECIPIENT = "invalid_recipient"
    BARRED = "barred"  # blocked, unsubscribed or suppressed recipient
    REFUSED = "refused"


@dataclass(frozen=True)
class Receipt:
    outcome: Outcome
    gateway_reference: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class SmsSend:
    reference: str
    to: str
    sender: str
    body: str
    validity_seconds: int


@dataclass(frozen=True)
class EmailSend:
    reference: str
    to: str
    sender: str
    subject: str
    body: str
    content_type: ContentType


class SmsGateway(Protocol):
    # Whether the provider recognises a repeated reference, so that a retry after a failure
    # that left the message's fate open (HandoverAmbiguous, a timeout) cannot send twice.
    deduplicates: bool

    async def send_sms(self, message: SmsSend) -> Receipt: ...


class EmailGateway(Protocol):
    deduplicates: bool

    async def send_email(self, message: EmailSend) -> Receipt: ...


@dataclass(frozen=True)
class InboundReport:
    """What a report route received, as the reader needs it to verify and parse."""

    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class ReportResponse:
    """The body a provider expects in answer (an acknowledgement, a validation handshake)."""

    body: bytes
    media_type: str


@dataclass(frozen=True)
class ReadReports:
    """The reports in one request; `delivery_id` identifies the request for replay detection;
    `response` replaces the default JSON answer where the provider prescribes its own."""

    reports: list[DeliveryReport]
    delivery_id: str | None = None
    response: ReportResponse | None = None


def report_json(body: bytes) -> Any:
    """A report body as JSON; text that cannot be stored (half a surrogate pair written as a
    `\\ud800` escape) makes it unreadable, like malformed JSON."""
    try:
        data = json.loads(body)
        json.dumps(data, ensure_ascii=False).encode()
    except (ValueError, RecursionError) as exc:
        raise ReportUnreadable(f"not JSON: {type(exc).__name__}") from exc
    return data


def batch_id(ids: Iterable[str]) -> str:
    """One delivery id for a request of several reports: the same reports, the same id."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:40]


class ReportReader(Protocol):
    def read(self, inbound: InboundReport) -> ReadReports:
        """Verify the request, then parse it; raises ReportRejected or ReportUnreadable."""
        ...
