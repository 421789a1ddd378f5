"""Azure Communication Services Email: the `emails:send` REST API, signed with the access key;
its settings (`ACS_…`). Its delivery reports come through Event Grid (`gateways/event_grid.py`)."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
from pydantic_settings import BaseSettings

from gateways.base import (
    EmailSend,
    GatewayContext,
    Outcome,
    Receipt,
    ascii_domain,
    section_config,
    unset,
)
from gateways.event_grid import EventGridReports
from gateways.html_text import alternatives
from gateways.http_failures import answer_failure, json_object, transport_failure

PROVIDER = "acs"
# Operation ids are derived from our reference, so every retry of a handover names the same
# operation and ACS takes it once.
_OPERATIONS = uuid.UUID("5b0a3c1e-7d52-4c0f-9a63-2f1d8e4b6a70")
_SUPPRESSED = "EmailDroppedAllRecipientsSuppressed"
_INVALID_ADDRESS = "Invalid format for email address"


def operation_id(reference: str) -> str:
    return str(uuid.uuid5(_OPERATIONS, reference))


def signed_headers(key: bytes, method: str, url: httpx.URL, body: bytes) -> dict[str, str]:
    """HMAC-SHA256 access-key authentication: the verb, path and query, date, host and body
    hash, signed with the (base64-decoded) access key."""
    date = format_datetime(datetime.now(UTC), usegmt=True)
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    host = url.netloc.decode("ascii")
    to_sign = f"{method}\n{url.raw_path.decode('ascii')}\n{date};{host};{content_hash}"
    mac = base64.b64encode(hmac.new(key, to_sign.encode(), hashlib.sha256).digest()).decode()
    return {
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Authorization": (
            f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={mac}"
        ),
    }


class AcsEmail:
    # A repeated Operation-Id is the same operation to ACS: a retry cannot send twice.
    deduplicates = True

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoint: str,
        access_key: str,
        api_version: str,
        timeout_seconds: float,
    ) -> None:
        self._http = http
        self._url = httpx.URL(
            f"{endpoint.rstrip('/')}/emails:send", params={"api-version": api_version}
        )
        self._key = base64.b64decode(access_key)
        self._timeout = timeout_seconds

    def reference_of(self, message: EmailSend) -> str:
        return operation_id(message.reference)

    async def send_email(self, message: EmailSend) -> Receipt:
        operation = self.reference_of(message)
        body = json.dumps(_payload(message)).encode()
        headers = {
            "Content-Type": "application/json",
            "Operation-Id": operation,
            **signed_headers(self._key, "POST", self._url, body),
        }
        try:
            response = await self._http.post(
                self._url, content=body, headers=headers, timeout=self._timeout
            )
        except httpx.TransportError as exc:
            raise transport_failure(PROVIDER, exc) from exc
        if response.status_code == 202:
            return Receipt(Outcome.ACCEPTED, gateway_reference=_operation(response, operation))
        if response.status_code != 400:
            # 401/403: our key or clock; 404, 405, 415: our endpoint; 408, 429, 503: ACS's
            # load. Nothing was queued. A 409 (our Operation-Id's operation exists), a 5xx but
            # 503 or a success other than 202 may come after it was.
            raise answer_failure(PROVIDER, response)
        code, text = _error(response)
        if code == _SUPPRESSED:
            return Receipt(Outcome.BARRED, detail=code)
        if _INVALID_ADDRESS.lower() in text.lower():
            return Receipt(Outcome.INVALID_RECIPIENT, detail=text)
        # A sender our resource may not use (InvalidSenderUserName, a domain not linked):
        # another provider may send from it.
        about_sender = "sender" in code.lower() or "domain" in code.lower()
        detail = f"{response.status_code} {code}: {text}"
        return Receipt(Outcome.REFUSED, detail=detail, elsewhere=about_sender)


def _payload(message: EmailSend) -> dict[str, object]:
    # An HTML body with its text beside it, for readers that show no HTML.
    text, html = alternatives(message.body, message.content_type)
    content = {"subject": message.subject, "plainText": text, "html": html}
    return {
        "senderAddress": message.sender,
        # IDNA, as SMTP sends it: ACS documents no international domains.
        "recipients": {"to": [{"address": ascii_domain(message.to)}]},
        "content": {name: value for name, value in content.items() if value},
        # One-time codes need no open or click tracking.
        "userEngagementTrackingDisabled": True,
    }


def _operation(response: httpx.Response, requested: str) -> str:
    return str(json_object(response).get("id") or requested)


def _error(response: httpx.Response) -> tuple[str, str]:
    error = json_object(response).get("error")
    if not isinstance(error, dict):
        return response.headers.get("x-ms-error-code", ""), ""
    return str(error.get("code", "")), str(error.get("message", ""))


class AcsSettings(BaseSettings):
    """`ACS_ENDPOINT` (`https://<resource>.communication.azure.com`), `ACS_ACCESS_KEY` (base64),
    `ACS_API_VERSION`, and `ACS_REPORT_SECRET`, the `?code=` of the Event Grid subscription."""

    model_config = section_config("ACS_")

    endpoint: str = ""
    access_key: str = ""
    api_version: str = "2025-09-01"
    report_secret: str = ""

    def missing(self, public_base_url: str) -> list[str]:
        return unset(self, "ACS_", "endpoint", "access_key", "report_secret")

    def email_gateway(self, context: GatewayContext) -> AcsEmail:
        return AcsEmail(
            context.client,
            self.endpoint,
            self.access_key,
            self.api_version,
            context.timeout_seconds,
        )

    def report_reader(self, context: GatewayContext) -> EventGridReports:
        return EventGridReports(context.name, self.report_secret)
