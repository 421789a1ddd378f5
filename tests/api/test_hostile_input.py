"""Hostile input: nesting, duplicate keys, content types, control characters, long strings,
values of the wrong JSON type, text JSON can escape but nothing can encode, odd query and path
parameters, odd tokens, odd delivery reports."""

import base64
import json
import sys
import time
from typing import Any

import jwt
import pytest

from tests.support.answers import assert_problem
from tests.support.bodies import email_order, sms_order
from tests.support.reports import signed_report
from tests.support.routes import EMAIL, FEED, REPORTS, SHIPMENT, SMS, WEBHOOKS
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


CONTENT_TYPE = ("recipientEmail", "emailSettings", "contentType")
EVERY_FIELD = [*((SMS, f) for f in SMS_FIELDS), *((EMAIL, f) for f in EMAIL_FIELDS)]


def with_value(order: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
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


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
async def test_numbers_json_does_not_have_are_400(
    stack: Stack, tenant: Tenant, constant: str
) -> None:
    raw = json.dumps(sms_order())[:-1] + f', "extra": {constant}}}'
    problem = assert_problem(await post_raw(stack, tenant, SMS, raw.encode()), 400)
    assert problem["errors"]["$"] == [f"{constant} is not JSON (RFC 8259 has no NaN or Infinity)."]


async def test_a_webhook_subscription_is_held_to_the_same_json_rules(
    stack: Stack, tenant: Tenant
) -> None:
    # Which of two `url`s wins decides where signed events go: refused, as for an order.
    twice = b'{"url": "http://a.example/hook", "url": "http://b.example/hook"}'
    problem = assert_problem(await post_raw(stack, tenant, WEBHOOKS, twice), 400)
    assert "more than once" in problem["errors"]["$"][0]
    form = b"url=http%3A%2F%2Fa.example%2Fhook"
    content_type = "application/x-www-form-urlencoded"
    assert_problem(await post_raw(stack, tenant, WEBHOOKS, form, content_type), 415)


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
    problem = assert_problem(await post_raw(stack, tenant, SMS, raw), 400)
    assert problem["errors"]["$"], problem


async def test_a_number_longer_than_can_be_read_is_400_saying_so(
    stack: Stack, tenant: Tenant
) -> None:
    raw = json.dumps(sms_order())[:-1] + f', "extra": {"9" * 5000}}}'
    problem = assert_problem(await post_raw(stack, tenant, SMS, raw.encode()), 400)
    assert problem["errors"]["$"] == [
        f"A number has more than {sys.get_int_max_str_digits()} digits."
    ]


@pytest.mark.parametrize(("route", "field"), EVERY_FIELD)
@pytest.mark.parametrize("character", ["\u0000", "\u001b", "\u007f"])
async def test_control_characters_in_every_field(
    stack: Stack, tenant: Tenant, route: str, field: str, character: str
) -> None:
    fields = SMS_FIELDS if route == SMS else EMAIL_FIELDS
    order = sms_order() if route == SMS else email_order()
    order = with_value(order, fields[field], f"a{character}b")
    problem = assert_problem(await stack.api.post(route, json=order, headers=tenant.headers), 400)
    assert field in problem["errors"]


@pytest.mark.parametrize(("route", "field"), EVERY_FIELD)
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


@pytest.mark.parametrize(
    "value", [{}, [], ["Plain"], {"Plain": 1}, 1.0, 0.0, False, "", " plain"], ids=repr
)
async def test_content_type_of_another_json_type_is_400(
    stack: Stack, tenant: Tenant, value: Any
) -> None:
    """An object or a list used to reach a dict lookup and fail with 500."""
    order = with_value(email_order(), CONTENT_TYPE, value)
    problem = assert_problem(await stack.api.post(EMAIL, json=order, headers=tenant.headers), 400)
    assert problem["errors"] == {
        "recipientEmail.emailSettings.contentType": [
            "Email content type must be either Plain or HTML."
        ]
    }


def fields_of(route: str) -> dict[str, tuple[str, ...]]:
    return SMS_FIELDS if route == SMS else EMAIL_FIELDS


def order_for(route: str) -> dict[str, Any]:
    return sms_order() if route == SMS else email_order()


@pytest.mark.parametrize(("route", "field"), EVERY_FIELD)
@pytest.mark.parametrize("half", [chr(0xD800), chr(0xDFFF)], ids=["high", "low"])
async def test_half_a_surrogate_pair_in_every_field(
    stack: Stack, tenant: Tenant, route: str, field: str, half: str
) -> None:
    """JSON may write `\\ud800` alone; no store, workflow or gateway can encode it (it was a
    500 on idempotencyId and a 503 that a retry could never cure on the others)."""
    order = with_value(order_for(route), fields_of(route)[field], f"a{half}b")
    problem = assert_problem(await post_raw(stack, tenant, route, json.dumps(order).encode()), 400)
    assert "surrogate" in problem["errors"][field][0]


async def test_a_whole_surrogate_pair_is_one_character(stack: Stack, tenant: Tenant) -> None:
    raw = json.dumps(sms_order(body="Your code \U0001f600 123456")).encode()
    assert b"\\ud83d\\ude00" in raw
    response = await post_raw(stack, tenant, SMS, raw)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
async def test_subject_with_a_unicode_line_separator_is_400(
    stack: Stack, tenant: Tenant, separator: str
) -> None:
    """The email package refuses such a header at sending time: that was a 503."""
    order = email_order(subject=f"Code{separator}Bcc: x@example.no")
    problem = assert_problem(await stack.api.post(EMAIL, json=order, headers=tenant.headers), 400)
    assert "one line" in problem["errors"]["recipientEmail.emailSettings.subject"][0]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("seq", ""),
        ("seq", "1e3"),
        ("seq", "١٢"),
        ("seq", "9" * 5000),
        ("seq", "-1"),
        ("pageSize", "ten"),
        ("pageSize", "1.5"),
        ("orderBy", ""),
        ("orderBy", "asc\u0000"),
        ("orderBy", "ascending"),
    ],
)
async def test_odd_feed_parameters_are_400_naming_the_parameter(
    stack: Stack, tenant: Tenant, name: str, value: str
) -> None:
    response = await stack.api.get(FEED, params={name: value}, headers=tenant.headers)
    assert list(assert_problem(response, 400)["errors"]) == [name]


@pytest.mark.parametrize(
    "shipment_id",
    ["x", "%ff", "%ED%A0%80", "%00", "a" * 5000, "{" + "0" * 8 + "}", "..%2F..", "0" * 33],
)
async def test_odd_shipment_ids_are_404(stack: Stack, tenant: Tenant, shipment_id: str) -> None:
    response = await stack.api.get(f"{SHIPMENT}/{shipment_id}", headers=tenant.headers)
    assert_problem(response, 404)


def _segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _signed(claims: dict[str, Any], secret: str) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


ODD_TOKENS = {
    "scheme-only": "Bearer",
    "basic": "Basic dXNlcjpwYXNz",
    "three-dots": "Bearer a.b.c",
    "no-segments": "Bearer ....",
    "long": "Bearer " + "a" * 20_000,
    "alg-none": f"Bearer {_segment({'alg': 'none'})}.{_segment({'org': 'x'})}.",
    "header-a-list": f"Bearer {_segment([])}.{_segment({})}.x",
    "alg-a-list": f"Bearer {_segment({'alg': ['HS256']})}.{_segment({})}.x",
    "alg-an-object": f"Bearer {_segment({'alg': {}})}.{_segment({})}.x",
    "payload-a-number": f"Bearer {_segment({'alg': 'HS256'})}.{_segment(1)}.x",
}


@pytest.mark.parametrize("authorization", ODD_TOKENS.values(), ids=ODD_TOKENS.keys())
async def test_odd_authorization_headers_are_401(
    stack: Stack, tenant: Tenant, authorization: str
) -> None:
    headers = {"Authorization": authorization}
    response = await stack.api.get(FEED, headers=headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "claims",
    [{"exp": "soon"}, {"exp": 10**30, "nbf": 10**30}, {"iat": "x"}, {"exp": None}],
    ids=repr,
)
async def test_tokens_with_odd_time_claims_are_401(stack: Stack, claims: dict[str, Any]) -> None:
    base = {"org": "ttd", "scope": stack.settings.auth_scope, "exp": int(time.time()) + 300}
    token = _signed({**base, **claims}, stack.settings.auth_jwt_secret)
    response = await stack.api.get(FEED, headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401)


@pytest.mark.parametrize(
    "claims",
    [{"org": ["ttd"]}, {"org": {"name": "ttd"}}, {"org": 5}, {"scope": ["x"]}, {"scope": {}}],
    ids=repr,
)
async def test_tokens_with_claims_of_another_json_type_are_403(
    stack: Stack, claims: dict[str, Any]
) -> None:
    base = {"org": "ttd", "scope": stack.settings.auth_scope, "exp": int(time.time()) + 300}
    token = _signed({**base, **claims}, stack.settings.auth_jwt_secret)
    response = await stack.api.get(FEED, headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 403)


SIMULATOR_REPORTS = f"{REPORTS}/simulator"


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "DELIVRD",
        7,
        {"reference": "\ud800", "status": "DELIVRD"},
        {"reference": "r", "status": "DELIVRD", "timestamp": 20240101},
        {"reference": "r", "status": ["DELIVRD"]},
        {"reference": "r", "status": "TELEPORTED"},
    ],
    ids=repr,
)
async def test_odd_signed_reports_are_400(stack: Stack, payload: Any) -> None:
    body, headers = signed_report(stack.settings.delivery_report_secret, payload)
    response = await stack.api.post(SIMULATOR_REPORTS, content=body, headers=headers)
    assert "could not be read" in assert_problem(response, 400)["detail"]


@pytest.mark.parametrize(
    "stamp", ["9" * 400, "-" + "9" * 400, "1e9", "", "0x10"], ids=["huge", "-huge", "e", "", "hex"]
)
async def test_odd_report_timestamps_are_401(stack: Stack, stamp: str) -> None:
    headers = {"webhook-id": "msg_1", "webhook-timestamp": stamp, "webhook-signature": "v1,x"}
    response = await stack.api.post(SIMULATOR_REPORTS, content=b"{}", headers=headers)
    assert_problem(response, 401)


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/xml", "multipart/form-data; boundary=x"]
)
async def test_a_signed_report_is_read_whatever_its_content_type(
    stack: Stack, content_type: str | None
) -> None:
    """The signature covers the bytes; the media type a gateway declares is not checked."""
    body, headers = signed_report(
        stack.settings.delivery_report_secret, {"reference": "no-such-ref", "status": "DELIVRD"}
    )
    headers.pop("content-type")
    if content_type is not None:
        headers["content-type"] = content_type
    response = await stack.api.post(SIMULATOR_REPORTS, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 1, "duplicate": False}


@pytest.mark.parametrize("provider", ["SIMULATOR", "%ff", "%ED%A0%80", "a" * 3000, "__class__"])
async def test_odd_provider_names_are_404(stack: Stack, provider: str) -> None:
    response = await stack.api.post(f"{REPORTS}/{provider}", content=b"{}")
    assert_problem(response, 404)
