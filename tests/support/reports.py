"""Delivery reports as the simulator signs them (Standard Webhooks)."""

import json
import uuid
from typing import Any

from gateways import standard_webhooks


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
