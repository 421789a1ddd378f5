"""The contract every provider passes, against a local server that speaks its protocol: it takes
a message, refuses a bad recipient, says when it did not take one (naming the provider's answer),
leaves the outcome open when it falls silent after the request left, and its own delivery report
reads as a final status.

A new provider is one module, one line in gateways/registry.py, and one case here."""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.config import Settings
from core.outbound import new_client
from domain.orders import ContentType
from domain.reports import DeliveryReport, MatchKey
from gateways.base import (
    EmailSend,
    GatewayUnavailable,
    HandoverAmbiguous,
    InboundReport,
    Outcome,
    Receipt,
    ReportReader,
    SmsSend,
)
from gateways.registry import gateway_context
from tests.support.fakes.acs import FakeAcs
from tests.support.fakes.linkmobility import FakeLinkMobility
from tests.support.fakes.smtp import FakeSmtp
from tests.support.fakes.twilio import FakeTwilio
from tests.support.polling import eventually
from tests.support.serving import serving
from tests.support.simulator import simulator_in_process

Running = Callable[[str], contextlib.AbstractAsyncContextManager[dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    """A provider: how its local server runs (given where reports go; it yields the settings
    that point the provider at it), its channel, the recipients that make each outcome, and the
    status or reply with which it does not take a message."""

    provider: str
    email: bool
    running: Running
    accepted: str
    refused: str
    not_taken: str
    silent: str
    not_taken_says: str


@contextlib.asynccontextmanager
async def simulator(reports: str) -> AsyncIterator[dict[str, Any]]:
    values = {"simulator_webhook_url": f"{reports}/simulator"}
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]
    async with simulator_in_process(settings, "simulator", grace=0):
        yield values


@contextlib.asynccontextmanager
async def twilio(reports: str) -> AsyncIterator[dict[str, Any]]:
    fake = FakeTwilio()
    async with serving(fake.app, grace=0) as url:
        yield {
            "twilio_base_url": url,
            "twilio_account_sid": fake.account_sid,
            "twilio_auth_token": fake.auth_token,
            "public_base_url": reports,
        }


@contextlib.asynccontextmanager
async def linkmobility(reports: str) -> AsyncIterator[dict[str, Any]]:
    fake = FakeLinkMobility(report_url=f"{reports}/linkmobility")
    async with serving(fake.app, grace=0) as url:
        yield {
            "linkmobility_base_url": url + "/",
            "linkmobility_username": fake.username,
            "linkmobility_password": fake.password,
            "linkmobility_report_username": fake.report_username,
            "linkmobility_report_password": fake.report_password,
        }


@contextlib.asynccontextmanager
async def smtp(reports: str) -> AsyncIterator[dict[str, Any]]:
    fake = FakeSmtp(report_url=f"{reports}/smtp?code=dsn-secret")
    async with fake.running("none", None) as port:
        yield {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_tls": "none",
            "smtp_report_secret": "dsn-secret",
        }


@contextlib.asynccontextmanager
async def acs(reports: str) -> AsyncIterator[dict[str, Any]]:
    fake = FakeAcs(webhook_url=f"{reports}/acs?code=grid-secret")
    async with serving(fake.app, grace=0) as url:
        yield {
            "acs_endpoint": url,
            "acs_access_key": fake.access_key,
            "acs_report_secret": "grid-secret",
        }


SMS_NUMBERS = ("+4791234567", "+4799990001", "+4799990009", "+4799990013")
CASES = [
    Case("simulator", False, simulator, *SMS_NUMBERS, "503"),
    Case("twilio", False, twilio, *SMS_NUMBERS, "429"),
    Case("linkmobility", False, linkmobility, *SMS_NUMBERS, "503"),
    Case("simulator", True, simulator, "kari", "invalid", "unavailable", "hang", "451"),
    Case("smtp", True, smtp, "kari", "invalid", "busy", "drop", "451"),
    Case("acs", True, acs, "kari", "invalid", "unavailable", "hang", "429"),
]


@dataclass
class ReportSink:
    """Where the local server posts its reports: each request is read by the provider's own
    reader, and answered as the provider expects."""

    reader: ReportReader | None = None
    reports: list[DeliveryReport] = field(default_factory=list)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])

    async def _receive(self, request: Request) -> Response:
        assert self.reader is not None
        inbound = InboundReport(str(request.url), request.headers, await request.body())
        read = self.reader.read(inbound)
        self.reports.extend(read.reports)
        if read.response is not None:
            return Response(read.response.body, media_type=read.response.media_type)
        return JSONResponse({"received": len(read.reports)})


@dataclass
class Provider:
    case: Case
    send: Callable[[str, str], Awaitable[Receipt]]
    sink: ReportSink


@pytest.fixture(
    scope="module", params=CASES, ids=lambda c: f"{c.provider}-{'email' if c.email else 'sms'}"
)
async def provider(request: pytest.FixtureRequest) -> AsyncIterator[Provider]:
    case: Case = request.param
    sink = ReportSink()
    async with (
        serving(sink.app) as reports,
        case.running(reports) as values,
        new_client() as http,  # the gateways' own client, as the worker makes it
    ):
        settings = Settings(_env_file=None, gateway_timeout_seconds=0.5, **values)  # type: ignore[call-arg]
        context = gateway_context(settings, case.provider, http)
        sink.reader = settings.report_sections()[case.provider].report_reader(context)
        if case.email:
            email = settings.email_sections()[case.provider].email_gateway(context)

            async def send(reference: str, to: str) -> Receipt:
                message = EmailSend(
                    reference,
                    f"{to}@example.no",
                    "noreply@example.no",
                    "Code",
                    "123456",
                    ContentType.PLAIN,
                )
                return await email.send_email(message)

        else:
            sms = settings.sms_sections()[case.provider].sms_gateway(context)

            async def send(reference: str, to: str) -> Receipt:
                return await sms.send_sms(SmsSend(reference, to, "Altinn", "Code 123456", 300))

        yield Provider(case, send, sink)


async def test_a_message_is_taken_and_its_report_reads_as_delivered(provider: Provider) -> None:
    receipt = await provider.send("contract01", provider.case.accepted)

    assert receipt.outcome is Outcome.ACCEPTED

    async def final() -> DeliveryReport | None:
        return next((r for r in provider.sink.reports if r.status is not None), None)

    report = await eventually(final, within=10)
    matched = (
        receipt.gateway_reference
        if report.matched_by is MatchKey.GATEWAY_REFERENCE
        else "contract01"
    )
    assert report.reference == matched
    assert report.status in ("SMS_Delivered", "Email_Delivered")


async def test_a_bad_recipient_is_refused(provider: Provider) -> None:
    receipt = await provider.send("contract02", provider.case.refused)

    assert receipt.outcome is Outcome.INVALID_RECIPIENT
    assert receipt.detail


async def test_a_message_not_taken_says_so(provider: Provider) -> None:
    with pytest.raises(GatewayUnavailable, match=provider.case.not_taken_says):
        await provider.send("contract03", provider.case.not_taken)


async def test_silence_after_the_request_left_leaves_the_outcome_open(provider: Provider) -> None:
    with pytest.raises(HandoverAmbiguous):
        await provider.send("contract04", provider.case.silent)
