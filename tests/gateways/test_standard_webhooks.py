"""Standard Webhooks verification against the specification's published test vector and the
official library."""

import time
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook

from core.config import Settings
from gateways import standard_webhooks
from gateways.base import ReportRejected
from simulator.config import SimulatorSettings

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WEBHOOK_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(signature: str = SIGNATURE, stamp: int = TIMESTAMP) -> dict[str, str]:
    return {
        "webhook-id": WEBHOOK_ID,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature,
    }


def test_signing_reproduces_the_published_vector() -> None:
    key = standard_webhooks.secret_key(SECRET)
    assert "v1," + standard_webhooks.sign(key, WEBHOOK_ID, TIMESTAMP, BODY) == SIGNATURE


def test_published_vector_verifies_within_the_tolerance() -> None:
    key = standard_webhooks.secret_key(SECRET)
    tolerance = int(time.time()) - TIMESTAMP + 60
    assert standard_webhooks.verify(key, headers(), BODY, tolerance) == WEBHOOK_ID


def test_one_valid_signature_among_several_is_enough() -> None:
    key = standard_webhooks.secret_key(SECRET)
    tolerance = int(time.time()) - TIMESTAMP + 60
    rotated = headers(f"v1,bm90LWEtc2lnbmF0dXJl {SIGNATURE}")
    assert standard_webhooks.verify(key, rotated, BODY, tolerance) == WEBHOOK_ID


@pytest.mark.parametrize(
    ("changed_headers", "body"),
    [
        (headers(), b'{"test": 2432232315}'),
        (headers(SIGNATURE.replace("g0h", "g0i")), BODY),
        (headers(stamp=TIMESTAMP + 1), BODY),
        (headers("v2," + SIGNATURE[3:]), BODY),
        ({"webhook-id": WEBHOOK_ID}, BODY),
        (headers(stamp=0) | {"webhook-timestamp": "soon"}, BODY),
        # Beyond what a float holds: compared as a float, it raised OverflowError.
        (headers(stamp=10**400), BODY),
        (headers(stamp=-(10**400)), BODY),
        # A header is read as latin-1: compared as text, this raised TypeError (a 500).
        (headers("v1,g0h\xe9"), BODY),
    ],
    ids=[
        "body",
        "signature",
        "timestamp",
        "version",
        "missing",
        "not-a-number",
        "huge",
        "-huge",
        "not-ascii",
    ],
)
def test_tampered_requests_are_rejected(changed_headers: dict[str, str], body: bytes) -> None:
    key = standard_webhooks.secret_key(SECRET)
    tolerance = int(time.time()) - TIMESTAMP + 60
    with pytest.raises(ReportRejected):
        standard_webhooks.verify(key, changed_headers, body, tolerance)


def test_stale_request_is_rejected_even_when_signed() -> None:
    key = standard_webhooks.secret_key(SECRET)
    with pytest.raises(ReportRejected):
        standard_webhooks.verify(key, headers(), BODY, tolerance_seconds=300)


# Secrets as the specification allows them: with the prefix, without it, and without padding.
OFFICIAL_SECRETS = [SECRET, SECRET.removeprefix("whsec_"), "whsec_c2VjcmV0LWtleQ", "c2VjcmV0LWtleQ"]


@pytest.mark.parametrize("secret", OFFICIAL_SECRETS)
def test_requests_signed_by_the_official_library_verify(secret: str) -> None:
    body = b'{"reference": "r1", "status": "DELIVRD"}'
    stamp = datetime.now(UTC)
    signed = Webhook(secret).sign("msg_1", stamp, body.decode())
    sent = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signed,
    }

    assert standard_webhooks.verify(standard_webhooks.secret_key(secret), sent, body, 60) == "msg_1"


@pytest.mark.parametrize("secret", OFFICIAL_SECRETS)
def test_our_signatures_verify_with_the_official_library(secret: str) -> None:
    body = b'{"reference": "r1", "status": "DELIVRD"}'
    headers = standard_webhooks.signed_headers(standard_webhooks.secret_key(secret), "m2", body)

    Webhook(secret).verify(body, headers)  # raises if they disagree


@pytest.mark.parametrize("secret", ["whsec_not base64!", "plain-text-secret", "whsec_", ""])
def test_a_secret_that_is_not_base64_is_refused_at_start(
    secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="Standard Webhooks secret"):
        standard_webhooks.secret_key(secret)
    with pytest.raises(ValidationError):
        Settings(_env_file=None, delivery_report_secret=secret)  # type: ignore[call-arg]
    monkeypatch.setenv("SIMULATOR_WEBHOOK_SECRET", secret)
    with pytest.raises(ValidationError):
        SimulatorSettings(_env_file=None)  # type: ignore[call-arg]


def test_a_new_secret_and_two_keys_verify_with_the_official_library() -> None:
    old, new = standard_webhooks.new_secret(), standard_webhooks.new_secret()
    keys = [standard_webhooks.secret_key(s) for s in (new, old)]

    signed = standard_webhooks.signed_headers(keys, "msg_rotating", BODY)

    assert new.startswith("whsec_")
    assert new != old
    assert len(signed["webhook-signature"].split()) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(BODY, signed) == {"test": 2432232314}
