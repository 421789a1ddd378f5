"""The Standard Webhooks signature scheme (webhook-id, -timestamp, -signature): our report
route verifies it, the simulator signs with it, and our outbound webhooks are signed with it."""

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence

from gateways.base import ReportRejected


def new_secret() -> str:
    """A fresh secret in the scheme's form: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The key of a Standard Webhooks secret: base64 after an optional `whsec_` prefix, as the
    specification and its official libraries read it (padding may be left out). Raises
    ValueError for a secret that is not base64, so it is refused at start."""
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("a Standard Webhooks secret must be base64, after `whsec_`") from exc
    if not key:
        raise ValueError("a Standard Webhooks secret must not be empty")
    return key


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    content = f"{webhook_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def signed_headers(
    key: bytes | Sequence[bytes], webhook_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of one delivery attempt of a JSON webhook (now, unless a time is given).

    With several keys (a secret being rotated), each signs: the scheme puts the signatures in
    one header, separated by spaces, and a receiver accepts any one it can verify.
    """
    stamp = int(time.time()) if timestamp is None else timestamp
    keys = [key] if isinstance(key, bytes) else key
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": " ".join("v1," + sign(k, webhook_id, stamp, body) for k in keys),
    }


def verify(key: bytes, headers: Mapping[str, str], body: bytes, tolerance_seconds: int) -> str:
    """Return the webhook id of a genuine, fresh request; raise ReportRejected otherwise."""
    webhook_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not webhook_id or not stamp or not signatures:
        raise ReportRejected("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise ReportRejected("webhook-timestamp is not a number") from exc
    # Whole seconds: a float cannot hold every integer a header may spell.
    if abs(int(time.time()) - timestamp) > tolerance_seconds:
        raise ReportRejected("webhook-timestamp is outside the tolerance")
    expected = sign(key, webhook_id, timestamp, body).encode()
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        # As bytes: compare_digest refuses strings with characters beyond ASCII.
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return webhook_id
    raise ReportRejected("no valid webhook-signature")
