"""Hostile input: nesting, duplicate keys, content types, control characters, long strings."""

import json
from typing import Any

import pytest

from tests.support.answers import assert_problem
from tests.support.bodies import email_order, sms_order
from tests.support.routes import EMAIL, SMS
from tests.support.stack import Stack, Tenant

JSON = {"Content-Type": "application/json"}

SMS_FIELDS = {
    "idempotencyId": ("idempotencyId",),
    "sendersReference": ("sendersReference",),
    "recipientSms.phoneNumber": ("recipientSms", "phoneNumber"),
    "recipientSms.smsSettings.body": ("recipientSms", "smsSettings", "body"),
    "recipientSms.smsSettings.sender": ("recipientSms", "smsSettings", "sender"),
}
EMAIL_FIELDS = {
    "recipientEmail.emailAddress": ("recipientEmail", "emailAddress"),
    "recipientEmail.emailSettings.subject": ("recipientEmail", "emailSettings", "subject"),
    "recipientEmail.emailSettings.body": ("recipientEmail", "emailSettings", "body"),
    "recipientEmail.emailSettings.senderEmailAddress": (
        "recipientEmail",
        "emailSettings",
        "senderEmailAddress",
    ),
}


def with_value(order: dict[str, Any], path: tuple[str, ...], value: str) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(order))
    node = copied
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copied


async def post_raw(
    stack: Stack,
    tenant: Tenant,
    route: str,
    raw: bytes,
    content_type: str | None = "application/json",
) -> Any:
    headers = {**tenant.headers}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return await stack.api.post(route, content=raw, headers=headers)


@pytest.mark.parametrize("depth", [33, 1000, 30_000])
async def test_deep_nesting_is_400(stack: Stack, tenant: Tenant, depth: int) -> None:
    raw = b'{"idempotencyId": "k", "x": ' + b"[" * depth + b"]" * depth + b"}"
    problem = assert_problem(await post_raw(stack, tenant, SMS, raw), 400)
    assert "nest" in problem["errors"]["$"][0]


async def test_nesting_within_the_limit_is_just_ignored(stack: Stack, tenant: Tenant) -> None:
    order = sms_order()
    order["extra"] = json.loads("[" * 20 + "]" * 20)
    response = await stack.api.post(SMS, json=order, headers=tenant.headers)
    assert response.status_code == 201


@pytest.mark.parametrize(
    "raw",
    [
        b'{"idempotencyId": "a", "idempotencyId": "b"}',
        b'{"idempotencyId": "a", "recipientSms": {"phoneNumber": "+4790000000", '
        b'"phoneNumber": "+4799990001"}}',
    ],
    ids=["top-level", "nested"],
)
async def test_duplicate_keys_are_400(stack: Stack, tenant: Tenant, raw: bytes) -> None:
    problem = assert_problem(await post_raw(stack, tenant, SMS, raw), 400)
    assert "more than once" in problem["errors"]["$"][0]


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonx",
    ],
)
async def test_wrong_content_types_are_415(
    stack: Stack, tenant: Tenant, content_type: str | None
) -> None:
    raw = json.dumps(sms_order()).encode()
    assert_problem(await post_raw(stack, tenant, SMS, raw, content_type), 415)


async def test_json_with_parameters_and_suffix_types_is_accepted(
    stack: Stack, tenant: Tenant
) -> None:
    raw = json.dumps(sms_order()).encode()
    for content_type in ("application/json; charset=utf-8", "application/problem+json"):
        raw = json.dumps(sms_order()).encode()
        response = await post_raw(stack, tenant, SMS, raw, content_type)
        assert response.status_code == 201, content_type


@pytest.mark.parametrize("raw", [b"\xff\xfe{}", b'{"idempotencyId": "\xc3\x28"}'])
async def test_invalid_utf8_is_400(stack: Stack, tenant: Tenant, raw: bytes) -> None:
    assert_problem(await post_raw(stack, tenant, SMS, raw), 400)


@pytest.mark.parametrize(
    ("route", "field"), [*((SMS, f) for f in SMS_FIELDS), *((EMAIL, f) for f in EMAIL_FIELDS)]
)
@pytest.mark.parametrize("character", ["\u0000", "\u001b", "\u007f"])
async def test_control_characters_in_every_field(
    stack: Stack, tenant: Tenant, route: str, field: str, character: str
) -> None:
    fields = SMS_FIELDS if route == SMS else EMAIL_FIELDS
    order = sms_order() if route == SMS else email_order()
    order = with_value(order, fields[field], f"a{character}b")
    problem = assert_problem(await stack.api.post(route, json=order, headers=tenant.headers), 400)
    assert field in problem["errors"]


@pytest.mark.parametrize(
    ("route", "field"), [*((SMS, f) for f in SMS_FIELDS), *((EMAIL, f) for f in EMAIL_FIELDS)]
)
async def test_very_long_strings_in_every_field(
    stack: Stack, tenant: Tenant, route: str, field: str
) -> None:
    fields = SMS_FIELDS if route == SMS else EMAIL_FIELDS
    order = sms_order() if route == SMS else email_order()
    long_value = "x" * 60_000 + "@example.no"
    order = with_value(order, fields[field], long_value)
    problem = assert_problem(await stack.api.post(route, json=order, headers=tenant.headers), 400)
    assert field in problem["errors"]
    assert long_value not in json.dumps(problem)


async def test_errors_never_echo_the_message_body(stack: Stack, tenant: Tenant) -> None:
    secret = "code 918273645 " * 200
    order = with_value(sms_order(), SMS_FIELDS["recipientSms.smsSettings.body"], secret)
    order["recipientSms"]["timeToLiveInSeconds"] = 5
    response = await stack.api.post(SMS, json=order, headers=tenant.headers)
    assert response.status_code == 400
    assert "918273645" not in response.text
