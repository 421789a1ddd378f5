"""Request bodies, and fresh keys, tenants and recipients for them."""

import random
import uuid
from typing import Any

from domain.ids import client_reference, workflow_id


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def new_org() -> str:
    """A tenant of its own: no other test's keys, feed entries or rate limits."""
    return f"org{uuid.uuid4().hex[:10]}"


def reference_of(org: str, key: str) -> str:
    """The reference the handover of a tenant's order sends, which the gateway's reports name."""
    return client_reference(workflow_id(org, key))


def random_phone() -> str:
    """A valid Norwegian mobile number outside the simulator's magic range."""
    return f"+479{random.randint(0, 8_999_999):07d}"


def random_email() -> str:
    return f"user.{uuid.uuid4().hex[:12]}@example.no"


def sms_order(
    phone: str | None = None,
    *,
    key: str | None = None,
    ttl: int = 300,
    body: str = "Your code is 123456",
    **top: Any,
) -> dict[str, Any]:
    return {
        "idempotencyId": key or new_key(),
        **top,
        "recipientSms": {
            "phoneNumber": phone or random_phone(),
            "timeToLiveInSeconds": ttl,
            "smsSettings": {"body": body},
        },
    }


def email_order(
    address: str | None = None,
    *,
    key: str | None = None,
    subject: str = "Your login code",
    body: str = "Your code is 123456",
    **top: Any,
) -> dict[str, Any]:
    return {
        "idempotencyId": key or new_key(),
        **top,
        "recipientEmail": {
            "emailAddress": address or random_email(),
            "emailSettings": {"subject": subject, "body": body},
        },
    }


def deprecated_order(order: dict[str, Any]) -> dict[str, Any]:
    """The SMS order of `sms_order` in the deprecated shape (`recipient.recipientSms`)."""
    return {
        "idempotencyId": order["idempotencyId"],
        "recipient": {"recipientSms": order["recipientSms"]},
    }
