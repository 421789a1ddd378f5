"""The local gateway simulator: its SMS HTTP API and its signed delivery-report webhook."""

from datetime import UTC, datetime

import httpx

from domain.reports import DeliveryReport
from domain.statuses import EMAIL_REPORT_STATES, SMS_REPORT_STATES
from gateways import standard_webhooks
from gateways.base import (
    InboundReport,
    Outcome,
    ReadReports,
    Receipt,
    ReportUnreadable,
    SmsSend,
    report_json,
)
from gateways.http_failures import transport_failure, unavailable

PROVIDER = "simulator"
_INVALID_RECIPIENT = "Invalid RCV"
# States that say the message moved on without deciding its fate.
_IN_FLIGHT = frozenset({"ENROUTE", "ACCEPTD", "SENT", "Queued", "OutForDelivery"})


class SimulatorSms:
    deduplicates = True

    def __init__(self, http: httpx.AsyncClient, base_url: str, timeout_seconds: float) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/sms"
        self._timeout = timeout_seconds

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
            raise transport_failure(PROVIDER, exc) from exc
        if response.status_code in (200, 201):
            return Receipt(Outcome.ACCEPTED, gateway_reference=response.json()["messageId"])
        if response.status_code in (400, 422):
            error = str(response.json().get("error", ""))
            if error.startswith(_INVALID_RECIPIENT):
                return Receipt(Outcome.INVALID_RECIPIENT, detail=error)
            return Receipt(Outcome.REFUSED, detail=error)
        raise unavailable(PROVIDER, response)


class SimulatorReports:
    """Reports are JSON `{reference, channel, status, timestamp, recipient}`, signed by the
    Standard Webhooks scheme; `status` uses the gateway vocabularies of `domain.statuses`."""

    def __init__(self, secret: str, tolerance_seconds: int) -> None:
        self._key = standard_webhooks.secret_key(secret)
        self._tolerance = tolerance_seconds

    def read(self, inbound: InboundReport) -> ReadReports:
        webhook_id = standard_webhooks.verify(
            self._key, inbound.headers, inbound.body, self._tolerance
        )
        return ReadReports([_parse(inbound.body, webhook_id)], delivery_id=webhook_id)


def _parse(body: bytes, webhook_id: str) -> DeliveryReport:
    data = report_json(body)
    try:
        reference, state = str(data["reference"]), str(data["status"])
        states = SMS_REPORT_STATES if data.get("channel", "SMS") == "SMS" else EMAIL_REPORT_STATES
        occurred = datetime.fromisoformat(data["timestamp"]) if data.get("timestamp") else None
    except (ValueError, KeyError, TypeError) as exc:
        raise ReportUnreadable(f"not a simulator report: {type(exc).__name__}") from exc
    if state not in states and state not in _IN_FLIGHT:
        raise ReportUnreadable(f"unknown state {state!r}")
    return DeliveryReport(
        reference=reference,
        provider=PROVIDER,
        provider_status=state,
        status=states.get(state),
        occurred_at=occurred,
        received_at=datetime.now(UTC),
        report_id=webhook_id,
    )
