"""Delivery reports as providers send them: the simulator's, signed (Standard Webhooks), and
SMTP's delivery status notifications."""

import json
import uuid
from typing import Any

import httpx

from gateways import standard_webhooks
from tests.support.fakes.smtp import Received, delivery_status_notification
from tests.support.routes import REPORTS

DSN_URL = "https://notify.example.no/notifications/api/v1/delivery-reports/smtp?code=dsn-secret"
# A bounce as a mail server words it: longer than the column that keeps a provider's status.
LONG_BOUNCE = "5.1.1 (bad destination mailbox address: user unknown at this site)"


def signed_report(
    secret: str,
    payload: dict[str, Any],
    *,
    webhook_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A report body and Standard Webhooks headers, as the simulator sends them."""
    body = json.dumps(payload).encode()
    key = standard_webhooks.secret_key(secret)
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    return body, standard_webhooks.signed_headers(key, webhook_id, body, timestamp)


def sms_report(reference: str, state: str) -> dict[str, str]:
    """The simulator's report on an SMS: our reference and an SMPP state (DELIVRD, FAILED…)."""
    return {"reference": reference, "status": state, "channel": "SMS"}


def bounce(
    reference: str,
    status: str = LONG_BOUNCE,
    message_id: str | None = None,
    returned_id: str | None = None,
) -> bytes:
    """A DSN, read by `DsnReports(…, "dsn-secret")` at DSN_URL: the message of our `reference`
    (with the Message-ID `returned_id`, which the DSN returns among its headers) failed with
    `status`; `message_id` is the DSN's own."""
    named = f"Message-ID: {returned_id}\r\n".encode() if returned_id else b""
    original = b"From: noreply@example.no\r\nTo: kari@example.no\r\n" + named + b"\r\n123\r\n"
    received = Received("noreply@example.no", "kari@example.no", original, reference, None, True)
    return delivery_status_notification(received, "failed", status, message_id)


async def relay_dsn(api: httpx.AsyncClient, dsn: bytes) -> httpx.Response:
    """A DSN relayed to the API's SMTP report route, as the sender mailbox's hook does."""
    return await api.post(
        f"{REPORTS}/smtp?code=dsn-secret", content=dsn, headers={"Content-Type": "message/rfc822"}
    )
