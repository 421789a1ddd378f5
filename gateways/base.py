"""What every provider implements: a sender, a delivery-report reader, and the settings section
that builds them."""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import httpx
from pydantic_settings import SettingsConfigDict

from domain.orders import ContentType
from domain.reports import DeliveryReport
from domain.sms import SmsCapacity


class GatewayUnavailable(Exception):
    """The gateway did not take the message this time; trying again cannot send it twice."""


class HandoverAmbiguous(Exception):
    """The request may have reached the gateway: no answer, or a failure that may come after
    it took the message (a 500, a 502 from its edge). Asked again only where it recognises a
    repeat; a failure of the provider all the same, which its circuit counts."""


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
    # A refusal of this message by this provider alone (the sender it was given, a destination
    # its account does not reach): the next provider is asked, and the circuit is not charged.
    elsewhere: bool = False


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
    # The order's shipment: with the reference, it makes a Message-ID that no one can know
    # before the order is placed (empty: the reference alone).
    shipment_id: str = ""


class SmsGateway(Protocol):
    # Whether the provider recognises a repeated reference, so that a retry after a failure
    # that left the message's fate open (HandoverAmbiguous, a timeout) cannot send twice.
    deduplicates: bool

    async def send_sms(self, message: SmsSend) -> Receipt: ...


@runtime_checkable
class KeepsConnections(Protocol):
    """A gateway with connections of its own kept open between messages (SMTP's), to be
    closed when the worker stops."""

    async def aclose(self) -> None: ...


class EmailGateway(Protocol):
    deduplicates: bool

    async def send_email(self, message: EmailSend) -> Receipt: ...


def ascii_domain(address: str) -> str:
    """An email address with an internationalised domain in its IDNA form, which every mail
    system takes (only a non-ASCII local part then needs SMTPUTF8)."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}" if not domain.isascii() else address


@runtime_checkable
class NamesBeforeSending(Protocol):
    """An email gateway whose reference for a message is set before the send (SMTP's
    Message-ID, ACS's operation id): a handover left unconfirmed can still name it, so the
    message's reports find it."""

    def reference_of(self, message: EmailSend) -> str: ...


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
    # Why parts of the request could not be read; each is kept as a dead report, while the
    # reports beside them are delivered.
    unreadable: list[str] = field(default_factory=list)


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
    """Readers subclass it, for `kept`'s default."""

    def read(self, inbound: InboundReport) -> ReadReports:
        """Verify the request, then parse it; raises ReportRejected or ReportUnreadable."""
        ...

    def kept(self, body: bytes) -> bytes:
        """What of a request's body a dead report keeps: all of it, but where it may quote
        a message (a mail relayed to SMTP's route)."""
        return body


@dataclass(frozen=True)
class GatewayContext:
    """What a provider's settings section needs from the rest of the service to build its parts.

    `name` is the provider's name (its settings section, its report route); `http` is the
    process's shared client, absent where only report readers are built (the API)."""

    name: str
    timeout_seconds: float
    public_base_url: str
    report_secret: str
    report_tolerance_seconds: int
    http: httpx.AsyncClient | None = None
    previous_public_base_urls: tuple[str, ...] = ()

    @property
    def client(self) -> httpx.AsyncClient:
        assert self.http is not None, "a sender needs the process's HTTP client"
        return self.http


@runtime_checkable
class SmsProvider(Protocol):
    """A settings section of a provider that sends SMS, and what that provider carries."""

    @property
    def capacity(self) -> SmsCapacity: ...

    def sms_gateway(self, context: GatewayContext) -> SmsGateway: ...


@runtime_checkable
class EmailProvider(Protocol):
    """A settings section of a provider that sends email."""

    def email_gateway(self, context: GatewayContext) -> EmailGateway: ...


@runtime_checkable
class ReportProvider(Protocol):
    """A settings section of a provider whose delivery reports reach our report route."""

    def report_reader(self, context: GatewayContext) -> ReportReader: ...


@runtime_checkable
class NeedsSetup(Protocol):
    """A settings section of a real provider: what a deployment must set before it sends
    through it (a send it cannot make, or reports it would refuse, fails every order)."""

    def missing(self, public_base_url: str) -> list[str]: ...


def unset(section: object, prefix: str, *names: str) -> list[str]:
    """The variables among `names` (fields of `section`) that are empty."""
    return [f"{prefix}{name.upper()}" for name in names if not getattr(section, name)]


def section_config(prefix: str) -> SettingsConfigDict:
    """A provider's settings section: its own variables under `prefix`, from the environment
    or `.env`, like the service's other settings."""
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", extra="ignore", hide_input_in_errors=True
    )
