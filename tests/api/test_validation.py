"""Every validation rule of the order bodies, with accepted and rejected edges."""

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.schemas.rules import MAX_IDEMPOTENCY_ID
from domain.ids import (
    MAX_KEY_BYTES,
    MAX_ORG_LENGTH,
    MAX_WORKFLOW_ID_BYTES,
    MAX_WORKFLOW_ID_LENGTH,
    workflow_id,
)
from tests.support.bodies import email_order, new_key, new_org, sms_order
from tests.support.polling import eventually
from tests.support.routes import DEPRECATED, EMAIL, SMS
from tests.support.stack import Stack, Tenant


def order_with(changes: dict[str, Any]) -> dict[str, Any]:
    """An order with the fields at the dotted paths (as the errors name them) set: an email
    order where they lie under `recipientEmail`, else an SMS order."""
    email = any(path.startswith("recipientEmail.") for path in changes)
    order = email_order() if email else sms_order()
    for path, value in changes.items():
        *parents, name = path.split(".")
        node = order
        for parent in parents:
            node = node[parent]
        node[name] = value
    return order


def route_of(order: dict[str, Any]) -> str:
    return EMAIL if "recipientEmail" in order else SMS


async def assert_rejected(stack: Stack, tenant: Tenant, route: str, body: Any, field: str) -> None:
    response = await stack.api.post(route, json=body, headers=tenant.headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400
    assert field in problem["errors"], problem["errors"]
    assert all(isinstance(m, str) and m for m in problem["errors"][field])


async def assert_accepted(stack: Stack, tenant: Tenant, route: str, body: Any) -> None:
    response = await stack.api.post(route, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text


# Each field, by the path its errors name, and its edges.
ACCEPTED: dict[str, list[Any]] = {
    "recipientSms.phoneNumber": [
        "+4740000001",
        "004740000000",
        "+233242426224",
        "+4790000000",
        "+47 912 34 567",
        "0047-91234567",
    ],
    # A number in a string, as ASP.NET's web defaults read it (Altinn keeps them).
    "recipientSms.timeToLiveInSeconds": [60, 172800, "120", "+120"],
    # The simulator keeps the limits of Link Mobility: 16 parts of 134 characters, or of 67
    # UCS-2 units.
    "recipientSms.smsSettings.body": ["x" * 2144, "ø" * 160, "€" * 1072, "😀" * 536, "line\nbreak"],
    "recipientSms.smsSettings.sender": [
        *("Altinn", "ABCDEFGHIJK", "Bank 2", "(TEST) SMS", "4790000000", "+4790000000"),
        *("", "  ", None),
    ],
    "idempotencyId": ["k", "k" * 255, "ÆØÅ/with:odd chars?#"],
    "sendersReference": ["r" * 1024],
    "recipientEmail.emailAddress": [
        "a@b.co",
        "ø@æ.no",
        "first.last+tag@sub.example.com",
        "x@1.2.3.4",
        "  padded@example.no  ",
        f"{'l' * 64}@example.no",
    ],
    "recipientEmail.emailSettings.senderEmailAddress": [None],  # absent: the default
    "recipientEmail.emailSettings.contentType": ["Plain", "Html", "plain", "HTML", 0, 1],
    "recipientEmail.emailSettings.subject": ["s" * 2000],
    "recipientEmail.emailSettings.body": ["b" * 60_000],
}
REJECTED: dict[str, list[Any]] = {
    "recipientSms.phoneNumber": [
        "+4750000004",
        "+47900000001",
        "+14790000000",
        "40000001",
        "+47",
        "++4740000001",
        "",
        "0+4740000001",
        "+47 abc",
        # libphonenumber reads these as valid, but the digits a gateway gets would be another
        # number (the extension appended) or digits it cannot read.
        "+4791234567;ext=5",
        "+47 912 34 567 x5",
        "+" + "".join(chr(0xFF10 + int(d)) for d in "4791234567"),  # fullwidth digits
        "+4791234567\n",
        "+4791234567\u200b",
    ],
    "recipientSms.timeToLiveInSeconds": [
        *(59, 172801, 0, -1, 120.5, None, True),
        *(" 120", "120.0", "1_20", "", "0x78", "120 ", "٣٠٠", "59", "9" * 5000),
    ],
    "recipientSms.smsSettings.body": ["", "   ", "\u0000code", "x" * 2145, "😀" * 537],
    "recipientSms.smsSettings.sender": [
        "ABCDEFGHIJKL",
        "(TEST) Instant SMS Test",
        "12345678901234567",
        "Bank<script>",
        "Bærum",
        "line\nbreak",
        "Altinn\n",
    ],
    "idempotencyId": ["", "   ", "k" * 256, None, 17, "tab\tkey", "😀" * (MAX_KEY_BYTES // 4 + 1)],
    "sendersReference": ["r" * 1025],
    "recipientEmail.emailAddress": [
        "user@localhost",
        "a@b.com;c@d.com",
        "a;b@c.com",
        "no-at-sign",
        "a@b.c",
        "a..b@c.com",
        '"john doe"@x.no',
        "",
        "a@b.toolongtldabcde",
        f"{'l' * 65}@example.no",
        # A dotted quad in full-width digits, which IDNA makes 1.2.3.4 (another address), and
        # in Arabic-Indic ones, which it makes a name.
        "x@" + ".".join(chr(0xFF10 + d) for d in (1, 2, 3, 4)),
        "x@" + ".".join(chr(0x0660 + d) for d in (1, 2, 3, 4)),
        "a@-bad.no",
        "a b@c.no",
        # 63 letters pass the pattern, but in its ASCII (IDNA) form the label is too long.
        f"a@{'ø' * 63}.no",
        # An RFC 2047 encoded word, which a mail program decodes into another address.
        "=?utf-8?q?Kari_=3Ckari=40victim.example=3E?=@example.no",
    ],
    "recipientEmail.emailSettings.senderEmailAddress": [
        "",
        "   ",
        "not-an-address",
        "a@localhost",
        "=?utf-8?q?Bank_=3Cceo=40bank.com=3E?=@example.no",
    ],
    "recipientEmail.emailSettings.contentType": ["Markdown", "", 2, True, None],
    "recipientEmail.emailSettings.subject": ["", "  ", "s" * 2001, "Injected\r\nBcc: x@y.no"],
    "recipientEmail.emailSettings.body": ["", "  ", "b" * 60_001],
}


def edges(table: dict[str, list[Any]]) -> list[tuple[str, Any]]:
    return [(path, value) for path, values in table.items() for value in values]


@pytest.mark.parametrize(("path", "value"), edges(ACCEPTED))
async def test_accepted(stack: Stack, tenant: Tenant, path: str, value: Any) -> None:
    order = order_with({path: value})
    await assert_accepted(stack, tenant, route_of(order), order)


@pytest.mark.parametrize(("path", "value"), edges(REJECTED))
async def test_rejected_naming_the_field(
    stack: Stack, tenant: Tenant, path: str, value: Any
) -> None:
    order = order_with({path: value})
    await assert_rejected(stack, tenant, route_of(order), order, path)


async def test_a_body_the_provider_would_cut_is_refused_saying_so(
    stack: Stack, tenant: Tenant
) -> None:
    response = await stack.api.post(
        SMS, json=order_with({"recipientSms.smsSettings.body": "x" * 2500}), headers=tenant.headers
    )
    assert response.json()["errors"] == {
        "recipientSms.smsSettings.body": [
            "The SMS body is 2500 GSM characters long; the simulator (with Link Mobility's "
            "limits) carries at most 2144 and would cut off the rest."
        ]
    }


async def test_a_sender_no_phone_can_show_is_refused_saying_so(
    stack: Stack, tenant: Tenant
) -> None:
    order = order_with({"recipientSms.smsSettings.sender": "(TEST) Instant SMS Test"})
    response = await stack.api.post(SMS, json=order, headers=tenant.headers)
    assert response.json()["errors"] == {
        "recipientSms.smsSettings.sender": [
            "The sender is 23 characters long; a phone shows at most 11 (or a number of at "
            "most 15 digits), so the simulator (with Link Mobility's limits) would cut it off "
            "or refuse the message."
        ]
    }


@pytest.mark.parametrize(
    "key",
    ["😀" * (MAX_KEY_BYTES // 4) + "k" * (MAX_KEY_BYTES % 4), "k" * MAX_IDEMPOTENCY_ID],
    ids=["most-bytes", "most-characters"],
)
async def test_the_longest_key_fits_the_longest_tenant_in_a_workflow_id(
    stack: Stack, key: str
) -> None:
    """Temporal limits workflow IDs to 1000 bytes, and its SQL schemas to 255 characters."""
    tenant = stack.tenant(org=new_org().ljust(MAX_ORG_LENGTH, "x"))

    assert len(workflow_id(tenant.org, key)) <= MAX_WORKFLOW_ID_LENGTH
    assert len(workflow_id(tenant.org, key).encode()) <= MAX_WORKFLOW_ID_BYTES
    await assert_accepted(stack, tenant, SMS, {**sms_order(), "idempotencyId": key})


async def test_missing_idempotency_id(stack: Stack, tenant: Tenant) -> None:
    order = sms_order()
    del order["idempotencyId"]
    await assert_rejected(stack, tenant, SMS, order, "idempotencyId")


async def test_missing_recipient(stack: Stack, tenant: Tenant) -> None:
    await assert_rejected(stack, tenant, SMS, {"idempotencyId": new_key()}, "recipientSms")


async def test_missing_sms_settings(stack: Stack, tenant: Tenant) -> None:
    order = sms_order()
    del order["recipientSms"]["smsSettings"]
    await assert_rejected(stack, tenant, SMS, order, "recipientSms.smsSettings")


async def test_blank_senders_reference_is_absent(stack: Stack, tenant: Tenant) -> None:
    response = await stack.api.post(
        SMS, json=sms_order(sendersReference="  "), headers=tenant.headers
    )
    assert response.status_code == 201
    assert "sendersReference" not in response.json()["notification"]


async def test_every_error_is_reported_at_once(stack: Stack, tenant: Tenant) -> None:
    order = order_with(
        {
            "recipientSms.phoneNumber": "123",
            "recipientSms.timeToLiveInSeconds": 5,
            "recipientSms.smsSettings.body": "",
        }
    )
    response = await stack.api.post(SMS, json=order, headers=tenant.headers)
    assert set(response.json()["errors"]) == {
        "recipientSms.phoneNumber",
        "recipientSms.timeToLiveInSeconds",
        "recipientSms.smsSettings.body",
    }


async def test_a_long_subject_reaches_the_mailbox_whole(stack: Stack, tenant: Tenant) -> None:
    """Through the API, the workflow, SMTP and the simulator's mail server, read back."""
    # The email package's own folding lost a space in this one (CPython gh-144156).
    subject = ("Frist: 1. mai for æøå-søknad. " * 17)[:500]
    order = order_with({"recipientEmail.emailSettings.subject": subject})
    await assert_accepted(stack, tenant, EMAIL, order)
    to = order["recipientEmail"]["emailAddress"]

    async def received() -> list[dict[str, Any]] | None:
        messages: list[dict[str, Any]] = (
            await stack.simulator.get("/messages", params={"to": to})
        ).json()
        return messages or None

    [message] = await eventually(received)
    assert message["subject"] == subject


async def test_deprecated_route_reports_nested_paths(stack: Stack, tenant: Tenant) -> None:
    order = {
        "idempotencyId": new_key(),
        "recipient": {
            "recipientSms": {
                "phoneNumber": "+4750000004",
                "timeToLiveInSeconds": 30,
                "smsSettings": {"body": "x"},
            }
        },
    }
    response = await stack.api.post(DEPRECATED, json=order, headers=tenant.headers)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "recipient.recipientSms.phoneNumber",
        "recipient.recipientSms.timeToLiveInSeconds",
    }


@pytest.mark.parametrize("raw", [b"{", b"not json", b"[]", b"null", b'"text"'])
async def test_malformed_or_wrong_json_is_400(stack: Stack, tenant: Tenant, raw: bytes) -> None:
    headers = {**tenant.headers, "Content-Type": "application/json"}
    response = await stack.api.post(SMS, content=raw, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]


async def test_the_largest_valid_email_fits_however_its_text_is_escaped(
    stack: Stack, tenant: Tenant
) -> None:
    # 60 000 characters outside the BMP, each escaped as a surrogate pair: 720 000 bytes.
    order = order_with({"recipientEmail.emailSettings.body": "\U0001f511" * 60_000})
    content = json.dumps(order, ensure_ascii=True).encode()
    headers = {**tenant.headers, "Content-Type": "application/json"}
    response = await stack.api.post(EMAIL, content=content, headers=headers)
    assert len(content) > 700_000
    assert response.status_code == 201, response.text


async def test_body_over_the_limit_is_413(stack: Stack, tenant: Tenant) -> None:
    limit = stack.settings.max_request_bytes
    order = order_with({"recipientEmail.emailSettings.body": "b" * limit})
    response = await stack.api.post(EMAIL, json=order, headers=tenant.headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert str(limit) in response.json()["detail"]


async def test_chunked_body_over_the_limit_is_413(stack: Stack, tenant: Tenant) -> None:
    kib = stack.settings.max_request_bytes // 1024

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"idempotencyId": "'
        for _ in range(kib + 1):
            yield b"k" * 1024
        yield b'"}'

    headers = {**tenant.headers, "Content-Type": "application/json"}
    response = await stack.api.post(SMS, content=chunks(), headers=headers)
    assert response.status_code == 413


async def test_non_json_content_type_is_415(stack: Stack, tenant: Tenant) -> None:
    headers = {**tenant.headers, "Content-Type": "text/plain"}
    response = await stack.api.post(SMS, content=b"{}", headers=headers)
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


async def test_names_are_matched_in_any_case_as_aspnet_binds_them(
    stack: Stack, tenant: Tenant
) -> None:
    """A .NET client serialising with C#'s own names (PascalCase) is understood."""
    order = {
        "IdempotencyId": new_key(),
        "SendersReference": "case-1",
        "RecipientSms": {
            "PhoneNumber": "+4791234567",
            "TIMETOLIVEINSECONDS": 300,
            "SmsSettings": {"Body": "Your code is 123456", "sender": "Altinn"},
        },
    }
    response = await stack.api.post(SMS, json=order, headers=tenant.headers)
    assert response.status_code == 201, response.text
    assert response.json()["notification"]["sendersReference"] == "case-1"


async def test_a_name_in_two_spellings_is_400(stack: Stack, tenant: Tenant) -> None:
    order = sms_order()
    order["recipientSms"]["PhoneNumber"] = "+4799999999"  # which number gets the code?
    response = await stack.api.post(SMS, json=order, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json()["errors"]["recipientSms"] == [
        "The name phoneNumber appears more than once in one object, in two spellings."
    ]


async def test_python_names_are_no_names_of_the_contract(stack: Stack, tenant: Tenant) -> None:
    order = sms_order()
    order["idempotency_id"] = order.pop("idempotencyId")
    response = await stack.api.post(SMS, json=order, headers=tenant.headers)
    assert response.status_code == 400
    assert "idempotencyId" in response.json()["errors"]
