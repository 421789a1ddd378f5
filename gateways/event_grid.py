"""ACS email delivery reports as Azure Event Grid delivers them (Event Grid event schema)."""

import json
from datetime import UTC, datetime
from typing import Any

from domain.reports import DeliveryReport, MatchKey
from domain.statuses import ShipmentStatus
from gateways.base import (
    InboundReport,
    ReadReports,
    ReportReader,
    ReportResponse,
    ReportUnreadable,
    batch_id,
    report_json,
)
from gateways.credentials import require_code

DELIVERY_REPORT = "Microsoft.Communication.EmailDeliveryReportReceived"
SUBSCRIPTION_VALIDATION = "Microsoft.EventGrid.SubscriptionValidationEvent"
# `data.status` of an email delivery report, mapped as Altinn maps it.
STATES: dict[str, ShipmentStatus] = {
    "Delivered": ShipmentStatus.EMAIL_DELIVERED,
    "Bounced": ShipmentStatus.EMAIL_FAILED_BOUNCED,
    "Expanded": ShipmentStatus.EMAIL_FAILED,
    "Failed": ShipmentStatus.EMAIL_FAILED,
    "FilteredSpam": ShipmentStatus.EMAIL_FAILED_FILTERED_SPAM,
    "Quarantined": ShipmentStatus.EMAIL_FAILED_QUARANTINED,
    "Suppressed": ShipmentStatus.EMAIL_FAILED_SUPPRESSED_RECIPIENT,
}


class EventGridReports(ReportReader):
    """The subscription's endpoint URL carries `?code=<secret>`; its validation handshake is
    answered, delivery reports are read, other event types are not reports and are skipped."""

    def __init__(self, provider: str, secret: str) -> None:
        self._provider = provider
        self._secret = secret

    def read(self, inbound: InboundReport) -> ReadReports:
        require_code(inbound.url, self._secret)
        events = _events(inbound.body)
        for event in events:
            if event.get("eventType") == SUBSCRIPTION_VALIDATION:
                return ReadReports([], response=_validation(event))
        reports, unreadable = [], []
        # Each event stands on its own, as Link Mobility's messages do: Event Grid does not
        # resend a refused request, so one event that cannot be read must not take the others.
        for event in events:
            if event.get("eventType") != DELIVERY_REPORT:
                continue
            try:
                reports.append(_report(self._provider, event))
            except ReportUnreadable as exc:
                unreadable.append(f"{exc} (event {event.get('id')!r})")
        delivery = batch_id(str(e.get("id")) for e in events)
        return ReadReports(
            reports, delivery_id=f"{self._provider}:{delivery}", unreadable=unreadable
        )


def _events(body: bytes) -> list[dict[str, Any]]:
    data = report_json(body)
    events = data if isinstance(data, list) else [data]
    if not events or not all(isinstance(e, dict) for e in events):
        raise ReportUnreadable("not an array of Event Grid events")
    return events


def _validation(event: dict[str, Any]) -> ReportResponse:
    code = _data(event).get("validationCode")
    if not isinstance(code, str):
        raise ReportUnreadable("a validation event without validationCode")
    return ReportResponse(json.dumps({"validationResponse": code}).encode(), "application/json")


def _data(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    if not isinstance(data, dict):
        raise ReportUnreadable("an event whose data is not an object")
    return data


def _report(provider: str, event: dict[str, Any]) -> DeliveryReport:
    data = _data(event)
    message_id, state = data.get("messageId"), data.get("status")
    if not isinstance(message_id, str) or not message_id or not isinstance(state, str):
        raise ReportUnreadable("a report without messageId or status")
    return DeliveryReport(
        reference=message_id,
        provider=provider,
        provider_status=state,
        # A state ACS adds later (its enum is open) decides nothing, and is kept in history.
        status=STATES.get(state),
        occurred_at=_timestamp(data),
        received_at=datetime.now(UTC),
        report_id=str(event.get("id") or f"{message_id}:{state}"),
        matched_by=MatchKey.GATEWAY_REFERENCE,
    )


def _timestamp(data: dict[str, Any]) -> datetime | None:
    # The documented sample spells it deliveryAttemptTimeStamp; the SDKs, ...Timestamp.
    stamp = data.get("deliveryAttemptTimeStamp") or data.get("deliveryAttemptTimestamp")
    try:
        return datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        return None
