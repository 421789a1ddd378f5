"""The local gateway simulator: its SMS HTTP API, its SMTP server, its signed delivery-report
webhook, and its settings (`SIMULATOR_…`, and `SIMULATOR2_…` for a second, independent one)."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import ClassVar

import httpx
from pydantic_settings import BaseSettings

from domain.reports import DeliveryReport
from domain.sms import SmsCapacity
from gateways import event_grid, linkmobility, standard_webhooks
from gateways.base import (
    GatewayContext,
    InboundReport,
    Outcome,
    ReadReports,
    Receipt,
    ReportReader,
    ReportUnreadable,
    SmsSend,
    report_json,
    section_config,
)
from gateways.http_failures import answer_failure, transport_failure
from gateways.smtp import SmtpEmail, SmtpServer
from gateways.smtp_connections import IDLE_SECONDS

PROVIDER = "simulator"
_INVALID_RECIPIENT = "Invalid RCV"
# States that say the message moved on without deciding its fate.
_IN_FLIGHT = frozenset({"ENROUTE", "ACCEPTD", "SENT", "Queued", "OutForDelivery"})


class SimulatorSms:
    deduplicates = True

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        timeout_seconds: float,
        provider: str = PROVIDER,
    ) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/sms"
        self._timeout = timeout_seconds
        self._provider = provider

    async def send_sms(self, message: SmsSend) -> Receipt:
        payload = {
            "to": message.to,
            "from": message.sender,
            "body": message.body,
            "reference": message.reference,
            "validitySeconds": message.validity_seconds,
        }
        try:
            response = await self._http.post(self._url, json=payload, timeout=self._timeout)
        except httpx.TransportError as exc:
            raise transport_failure(self._provider, exc) from exc
        if response.status_code in (200, 201):
            return Receipt(Outcome.ACCEPTED, gateway_reference=response.json()["messageId"])
        if response.status_code in (400, 422):
            error = str(response.json().get("error", ""))
            if error.startswith(_INVALID_RECIPIENT):
                return Receipt(Outcome.INVALID_RECIPIENT, detail=error)
            return Receipt(Outcome.REFUSED, detail=error)
        raise answer_failure(self._provider, response)


class SimulatorReports(ReportReader):
    """Reports are JSON `{reference, channel, status, timestamp, recipient}`, signed by the
    Standard Webhooks scheme; `status` is a Link Mobility state for SMS and an ACS one for
    email."""

    def __init__(self, secret: str, tolerance_seconds: int, provider: str = PROVIDER) -> None:
        self._key = standard_webhooks.secret_key(secret)
        self._tolerance = tolerance_seconds
        self._provider = provider

    def read(self, inbound: InboundReport) -> ReadReports:
        webhook_id = standard_webhooks.verify(
            self._key, inbound.headers, inbound.body, self._tolerance
        )
        report = _parse(inbound.body, webhook_id, self._provider)
        return ReadReports([report], delivery_id=webhook_id)


def _parse(body: bytes, webhook_id: str, provider: str) -> DeliveryReport:
    data = report_json(body)
    try:
        reference, state = str(data["reference"]), str(data["status"])
        email = data.get("channel", "SMS") != "SMS"
        states = event_grid.STATES if email else linkmobility.STATES
        occurred = datetime.fromisoformat(data["timestamp"]) if data.get("timestamp") else None
    except (ValueError, KeyError, TypeError) as exc:
        raise ReportUnreadable(f"not a simulator report: {type(exc).__name__}") from exc
    if state not in states and state not in _IN_FLIGHT:
        raise ReportUnreadable(f"unknown state {state!r}")
    return DeliveryReport(
        reference=reference,
        provider=provider,
        provider_status=state,
        status=states.get(state),
        occurred_at=occurred,
        received_at=datetime.now(UTC),
        report_id=webhook_id,
    )


class SimulatorSettings(BaseSettings):
    """Where the simulator's HTTP API (`SIMULATOR_URL`) and SMTP server
    (`SIMULATOR_SMTP_HOST`, `SIMULATOR_SMTP_PORT`) are, and where `make run` tells it to post
    its reports (`SIMULATOR_WEBHOOK_URL`; empty: the API's report route)."""

    model_config = section_config("SIMULATOR_")
    # It stands in for Link Mobility, the provider Altinn uses, and keeps its limits.
    capacity: ClassVar[SmsCapacity] = replace(
        linkmobility.CAPACITY, provider="the simulator (with Link Mobility's limits)"
    )

    url: str = "http://127.0.0.1:8025"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    webhook_url: str = ""

    def sms_gateway(self, context: GatewayContext) -> SimulatorSms:
        return SimulatorSms(context.client, self.url, context.timeout_seconds, context.name)

    def email_gateway(self, context: GatewayContext) -> SmtpEmail:
        server = SmtpServer(self.smtp_host, self.smtp_port)
        # The simulator recognises a Message-ID again, which plain SMTP does not.
        return SmtpEmail(
            server,
            context.timeout_seconds,
            deduplicates=True,
            idle_seconds=IDLE_SECONDS,
            name=context.name,
        )

    def report_reader(self, context: GatewayContext) -> SimulatorReports:
        return SimulatorReports(
            context.report_secret, context.report_tolerance_seconds, context.name
        )


class SecondSimulatorSettings(SimulatorSettings):
    """A second simulator, independent of the first (`SIMULATOR2_…`): a second provider to
    fail over to on this machine."""

    model_config = section_config("SIMULATOR2_")
    capacity: ClassVar[SmsCapacity] = replace(
        linkmobility.CAPACITY, provider="the second simulator (with Link Mobility's limits)"
    )

    url: str = "http://127.0.0.1:8026"
    smtp_port: int = 2526
