"""The codec server as the Temporal UI and CLI call it: Temporal's remote codec protocol, the
history of real orders decoded with bodies and subjects redacted, CORS for the UI's origin,
and a token with CODEC_SCOPE."""

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.api.common.v1 import Payload

from core.codec import ENCODING, new_key
from domain.ids import workflow_id
from tests.support.answers import assert_problem, shipment_id
from tests.support.bodies import email_order, random_phone, sms_order
from tests.support.history import completed_history, failures_in, payloads_in, stored_history
from tests.support.inprocess import api_and_worker_with, api_for
from tests.support.polling import completed_manifest
from tests.support.routes import DECODE, EMAIL, ENCODE, SMS
from tests.support.stack import Stack, Tenant

UI = "http://127.0.0.1:8233"


@pytest.fixture
async def codec(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """The API of the stack's settings, opened to the UI's origin."""
    settings = stack.settings.model_copy(update={"codec_cors_origins": f"{UI},http://ui.example"})
    async with api_for(settings, stack.connection) as api:
        yield api


def operator(stack: Stack) -> dict[str, str]:
    """An operator's headers as the UI sends them: a token with the codec scope only."""
    headers = stack.headers("ops", scope=stack.settings.codec_scope)
    return {**headers, "X-Namespace": stack.client.namespace}


def wire(payloads: list[Payload]) -> dict[str, Any]:
    """Payloads in protobuf's JSON form, as the UI posts them."""

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return {
        "payloads": [
            {"metadata": {k: b64(v) for k, v in p.metadata.items()}, "data": b64(p.data)}
            for p in payloads
        ]
    }


def unwire(document: dict[str, Any]) -> list[Payload]:
    return [
        Payload(
            metadata={k: base64.b64decode(v) for k, v in item.get("metadata", {}).items()},
            data=base64.b64decode(item.get("data", "")),
        )
        for item in document["payloads"]
    ]


def shown(payload: Payload) -> Any:
    return json.loads(payload.data)


async def test_encode_then_decode_gives_back_the_payload(
    codec: httpx.AsyncClient, stack: Stack
) -> None:
    original = Payload(metadata={"encoding": b"json/plain"}, data=b'{"shipment_id":"s-1"}')

    encoded = await codec.post(ENCODE, json=wire([original]), headers=operator(stack))
    sealed = unwire(encoded.json())
    decoded = await codec.post(DECODE, json=encoded.json(), headers=operator(stack))

    assert encoded.status_code == decoded.status_code == 200
    assert sealed[0].metadata["encoding"] == ENCODING
    assert b"s-1" not in sealed[0].data
    assert unwire(decoded.json()) == [original]


async def test_an_orders_history_decodes_with_body_and_subject_redacted(
    codec: httpx.AsyncClient, stack: Stack, tenant: Tenant
) -> None:
    secret = f"Your code is {uuid.uuid4().int % 1_000_000:06d}"
    sms = sms_order(body=secret, sendersReference="case-1")
    email = email_order(subject=f"Login {secret}", body=f"<b>{secret}</b>")
    for route, order in ((SMS, sms), (EMAIL, email)):
        placed = await stack.api.post(route, json=order, headers=tenant.headers)
        await completed_manifest(stack.api, tenant.headers, shipment_id(placed))

    shown_sms = await decoded_history(codec, stack, tenant.org, sms["idempotencyId"])
    shown_email = await decoded_history(codec, stack, tenant.org, email["idempotencyId"])

    order = shown(shown_sms[0])
    assert order["sms"]["body"] == f"[redacted: {len(secret)} characters]"
    assert order["sms"]["phone_number"] == sms["recipientSms"]["phoneNumber"]
    assert (order["org"], order["idempotency_id"]) == (tenant.org, sms["idempotencyId"])
    assert order["senders_reference"] == "case-1"
    assert order["timing"]["ttl_seconds"] == 300
    assert shown(shown_sms[-1])["status"] == "SMS_Delivered"
    mail = shown(shown_email[0])["email"]
    assert mail["subject"] == f"[redacted: {len(secret) + 6} characters]"
    assert mail["body"].startswith("[redacted: ")
    assert mail["address"] == email["recipientEmail"]["emailAddress"]
    for payloads in (shown_sms, shown_email):
        assert not [p for p in payloads if secret.encode() in p.data]
        assert not [p for p in payloads if p.metadata["encoding"] == ENCODING]


async def decoded_history(
    codec: httpx.AsyncClient, stack: Stack, org: str, key: str
) -> list[Payload]:
    """Every payload of the order's stored history, through the codec, as the UI asks."""
    events = await completed_history(stack.client.get_workflow_handle(workflow_id(org, key)))
    answer = await codec.post(DECODE, json=wire(payloads_in(events)), headers=operator(stack))
    assert answer.status_code == 200, answer.text
    return unwire(answer.json())


async def test_failure_messages_are_sealed_and_decode_readable(
    codec: httpx.AsyncClient, stack: Stack, tenant: Tenant
) -> None:
    """A failed handover ends its workflow failed; the failure's message could carry a
    gateway's words. A refusal by the rate limit is the quickest such failure."""
    phone, order = random_phone(), sms_order()
    async with api_and_worker_with(stack, recipient_limit=1) as api:
        await api.post(SMS, json=sms_order(phone), headers=tenant.headers)
        order = sms_order(phone)
        refused = await api.post(SMS, json=order, headers=tenant.headers)
    assert_problem(refused, 429)
    handle = stack.client.get_workflow_handle(workflow_id(tenant.org, order["idempotencyId"]))

    failures = failures_in(await stored_history(handle))
    answer = await codec.post(
        DECODE, json=wire([f.encoded_attributes for f in failures]), headers=operator(stack)
    )

    assert failures
    assert {f.message for f in failures} == {"Encoded failure"}
    assert {f.encoded_attributes.metadata["encoding"] for f in failures} == {ENCODING}
    messages = [shown(p)["message"] for p in unwire(answer.json())]
    assert any("limit" in message for message in messages), messages


async def test_the_ui_origin_passes_the_preflight_and_others_do_not(
    codec: httpx.AsyncClient,
) -> None:
    def preflight(origin: str) -> dict[str, str]:
        return {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        }

    allowed = await codec.options(DECODE, headers=preflight(UI))
    foreign = await codec.options(DECODE, headers=preflight("http://evil.example"))
    orders = await codec.options(SMS, headers=preflight(UI))

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI
    assert "x-namespace" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in foreign.headers
    # Only the codec is opened to the UI's page; the order routes stay closed to browsers.
    assert "access-control-allow-origin" not in orders.headers


async def test_a_refusal_reaches_the_ui_page_with_its_cors_headers(
    codec: httpx.AsyncClient, stack: Stack
) -> None:
    answer = await codec.post(
        DECODE, json={"payloads": []}, headers={"Origin": UI, "X-Namespace": "default"}
    )

    assert_problem(answer, 401)
    assert answer.headers["access-control-allow-origin"] == UI


async def test_a_decode_without_a_codec_token_is_refused(
    codec: httpx.AsyncClient, stack: Stack
) -> None:
    body: dict[str, list[Any]] = {"payloads": []}

    missing = await codec.post(DECODE, json=body)
    orders_only = await codec.post(DECODE, json=body, headers=stack.headers("ttd"))
    allowed = await codec.post(DECODE, json=body, headers=operator(stack))

    assert assert_problem(missing, 401)["detail"] == "A bearer token is required."
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert stack.settings.codec_scope in assert_problem(orders_only, 403)["detail"]
    assert allowed.json() == {"payloads": []}


async def test_a_large_decode_without_a_token_is_refused_before_it_is_read(
    codec: httpx.AsyncClient, stack: Stack
) -> None:
    """The codec takes 6 MiB (a history's payload); a caller without a token gets the orders'
    limit, so megabytes are not read and parsed for anyone. With a token, the same is read."""
    big = json.dumps({"payloads": [{"metadata": {}, "data": "A" * (2 * 1024 * 1024)}]})
    headers = {"content-type": "application/json"}

    anonymous = await codec.post(DECODE, content=big, headers=headers)
    allowed = await codec.post(DECODE, content=big, headers={**headers, **operator(stack)})

    assert_problem(anonymous, 413)
    assert allowed.status_code != 413


async def test_without_a_codec_scope_no_token_is_needed(stack: Stack) -> None:
    settings = stack.settings.model_copy(update={"codec_scope": ""})
    async with api_for(settings, stack.connection) as api:
        answer = await api.post(DECODE, json={"payloads": []})

    assert answer.status_code == 200


async def test_another_namespace_and_bad_base64_are_refused(
    codec: httpx.AsyncClient, stack: Stack
) -> None:
    headers = operator(stack)
    elsewhere = await codec.post(
        DECODE, json={"payloads": []}, headers={**headers, "X-Namespace": "payments"}
    )
    garbled = await codec.post(DECODE, json={"payloads": [{"data": "%%%"}]}, headers=headers)
    half_pair = b'{"payloads": [{"metadata": {"\\ud800": ""}}]}'
    unkeyed = await codec.post(
        DECODE, content=half_pair, headers={**headers, "Content-Type": "application/json"}
    )

    assert "namespace" in assert_problem(elsewhere, 404)["detail"]
    assert "payloads" in str(assert_problem(garbled, 400)["errors"])
    assert "surrogate" in str(assert_problem(unkeyed, 400)["errors"])


async def test_a_payload_of_an_unknown_key_stays_sealed(
    codec: httpx.AsyncClient, stack: Stack
) -> None:
    settings = stack.settings.model_copy(update={"payload_encryption_key": new_key("other")})
    original = Payload(metadata={"encoding": b"json/plain"}, data=b'{"body":"123456"}')
    async with api_for(settings, stack.connection) as elsewhere:
        foreign = await elsewhere.post(ENCODE, json=wire([original]), headers=operator(stack))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"status":"SMS_Delivered"}')

    decoded = await codec.post(
        DECODE,
        json={"payloads": [*foreign.json()["payloads"], *wire([plain])["payloads"]]},
        headers=operator(stack),
    )

    sealed, readable = unwire(decoded.json())
    assert sealed.metadata["encoding"] == ENCODING
    assert b"123456" not in sealed.data
    assert readable == plain


@pytest.mark.parametrize(
    ("key_id", "data"),
    [(b"scratch", b""), (b"\xff", b"x" * 40)],
    ids=["nonce-too-short", "key-id-not-utf8"],
)
async def test_a_malformed_sealed_payload_stays_sealed(
    codec: httpx.AsyncClient, stack: Stack, key_id: bytes, data: bytes
) -> None:
    broken = Payload(metadata={"encoding": ENCODING, "encryption-key-id": key_id}, data=data)
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"status":"SMS_Delivered"}')

    decoded = await codec.post(DECODE, json=wire([broken, plain]), headers=operator(stack))

    assert decoded.status_code == 200
    assert unwire(decoded.json()) == [broken, plain]
