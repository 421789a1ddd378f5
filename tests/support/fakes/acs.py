"""A local Azure Communication Services Email endpoint and the Event Grid that reports for it.

`POST /emails:send` verifies the HMAC-SHA256 access-key signature with its own code (date,
host, path and query, body hash), takes an `Operation-Id` once, and answers as ACS does; each
accepted email is later reported as an Event Grid `EmailDeliveryReportReceived` event.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.fakes.background import Background

API_VERSIONS = frozenset({"2023-03-31", "2025-09-01"})
_STATUSES = {"bounced": "Bounced", "spam": "FilteredSpam", "quarantined": "Quarantined"}


@dataclass
class FakeAcs:
    access_key: str = base64.b64encode(b"fake-acs-access-key-0123456789ab").decode()
    webhook_url: str = ""
    operations: dict[str, int] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    signature_failures: int = 0
    deliveries: list[httpx.Response] = field(default_factory=list)
    background: Background = field(default_factory=Background)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/emails:send", self._send, methods=["POST"])])

    async def _send(self, request: Request) -> JSONResponse:
        body = await request.body()
        if request.query_params.get("api-version") not in API_VERSIONS:
            return _error(400, "UnsupportedApiVersion", "The api-version is not supported.")
        if not self._signed(request, body):
            self.signature_failures += 1
            return _error(401, "Denied", "Denied by the resource provider.")
        message = json.loads(body)
        address = message["recipients"]["to"][0]["address"]
        local = address.partition("@")[0]
        if message["senderAddress"].startswith("unconfigured@"):
            # A MailFrom username the domain does not have.
            return _error(400, "InvalidSenderUserName", "Invalid email sender username.")
        if local == "invalid":
            return _error(400, "BadRequest", "Invalid format for email address.")
        if local == "suppressed":
            return _error(400, "EmailDroppedAllRecipientsSuppressed", "All recipients suppressed.")
        if local == "unavailable":
            return _error(429, "TooManyRequests", "Please retry after 30 seconds.")
        if local == "hang":
            await asyncio.sleep(3600)
        operation = request.headers.get("operation-id") or str(uuid.uuid4())
        first = operation not in self.operations
        self.operations[operation] = self.operations.get(operation, 0) + 1
        if first:
            self.sent.append(message)
        if first and local != "silent":
            sender = message["senderAddress"]
            self.background.start(
                self._report(operation, sender, address, _STATUSES.get(local, "Delivered"))
            )
        location = f"{request.base_url}emails/operations/{operation}?api-version=2025-09-01"
        return JSONResponse(
            {"id": operation, "status": "Running"},
            status_code=202,
            headers={"Operation-Location": location, "retry-after": "30"},
        )

    def _signed(self, request: Request, body: bytes) -> bool:
        date = request.headers.get("x-ms-date", "")
        content_hash = request.headers.get("x-ms-content-sha256", "")
        prefix = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith(prefix):
            return False
        try:
            sent = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return False
        if abs(datetime.now(UTC) - sent) > timedelta(minutes=15):
            return False
        if content_hash != base64.b64encode(hashlib.sha256(body).digest()).decode():
            return False
        path_and_query = f"{request.url.path}?{request.url.query}"
        host = request.headers["host"]
        to_sign = f"POST\n{path_and_query}\n{date};{host};{content_hash}".encode()
        key = base64.b64decode(self.access_key)
        expected = base64.b64encode(hmac.new(key, to_sign, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(authorization.removeprefix(prefix), expected)

    async def _report(self, operation: str, sender: str, recipient: str, status: str) -> None:
        await asyncio.sleep(0.05)
        await self.deliver([delivery_report_event(operation, sender, recipient, status)])

    async def deliver(self, events: list[dict[str, Any]], url: str | None = None) -> httpx.Response:
        kind = "SubscriptionValidation" if _is_validation(events) else "Notification"
        headers = {"aeg-event-type": kind, "aeg-subscription-name": "EMAIL-REPORTS"}
        async with httpx.AsyncClient() as http:
            response = await http.post(url or self.webhook_url, json=events, headers=headers)
        self.deliveries.append(response)
        return response


def delivery_report_event(
    operation: str, sender: str, recipient: str, status: str
) -> dict[str, Any]:
    """The Event Grid event schema, as in the ACS email events reference."""
    now = datetime.now(UTC).isoformat()
    return {
        "id": str(uuid.uuid4()),
        "topic": "/subscriptions/0000/resourceGroups/rg/providers/"
        "microsoft.communication/communicationservices/acs-fake",
        "subject": f"sender/{sender}/message/{operation}",
        "data": {
            "sender": sender,
            "recipient": recipient,
            "messageId": operation,
            "status": status,
            "deliveryStatusDetails": {"statusMessage": "Status Message"},
            "deliveryAttemptTimeStamp": now,
        },
        "eventType": "Microsoft.Communication.EmailDeliveryReportReceived",
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "eventTime": now,
    }


def validation_event(code: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "topic": "/subscriptions/0000/resourceGroups/rg/providers/"
        "microsoft.communication/communicationservices/acs-fake",
        "subject": "",
        "data": {
            "validationCode": code,
            "validationUrl": "https://rp-westeurope.eventgrid.azure.net/validate?id=0&t=0",
        },
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": datetime.now(UTC).isoformat(),
        "metadataVersion": "1",
        "dataVersion": "2",
    }


def _is_validation(events: list[dict[str, Any]]) -> bool:
    validation = "Microsoft.EventGrid.SubscriptionValidationEvent"
    return any(e.get("eventType") == validation for e in events)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=status,
        headers={"x-ms-error-code": code},
    )
