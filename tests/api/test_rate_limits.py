"""Rate limits against SMS pumping: per (tenant, recipient) and per tenant, kept in the store."""

import asyncio
import logging

import pytest

from tests.support.answers import assert_problem, shipment_id
from tests.support.bodies import email_order, random_email, random_phone, sms_order
from tests.support.inprocess import api_and_worker_with
from tests.support.routes import EMAIL, SHIPMENT, SMS
from tests.support.simulator import received
from tests.support.stack import Stack, Tenant

# PostgreSQL checks the limits in a server-side function of its own (migrations 0010, 0011).
pytestmark = pytest.mark.both_databases


async def test_recipient_limit_refuses_with_retry_after(
    stack: Stack, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    phone = random_phone()
    async with api_and_worker_with(stack, recipient_limit=3, recipient_window_seconds=600) as api:
        accepted = [
            await api.post(SMS, json=sms_order(phone), headers=tenant.headers) for _ in range(3)
        ]
        refused = await api.post(SMS, json=sms_order(phone), headers=tenant.headers)

    assert [r.status_code for r in accepted] == [201, 201, 201]
    assert_problem(refused, 429)
    assert 590 <= int(refused.headers["retry-after"]) <= 600
    assert "recipient" in refused.json()["detail"]
    assert len(await received(stack.simulator, to=phone)) == 3
    counted = await stack.api.get("/metrics")
    assert 'notifications_rate_limited_total{scope="recipient"}' in counted.text
    # An expected refusal: no warning with a traceback from the SDK for each one.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.exc_info]


async def test_one_handset_is_one_recipient_however_its_number_is_written(
    stack: Stack, tenant: Tenant
) -> None:
    phone = random_phone()  # +479XXXXXXX
    written = [
        "00" + phone[1:],
        f"{phone[:3]} {phone[3:]}",
        f"{phone[:3]}-{phone[3:]}",
        f"{phone[:6]} {phone[6:]}",
        f"00{phone[1:3]}-{phone[3:]}",
    ]
    async with api_and_worker_with(stack, recipient_limit=1, recipient_window_seconds=600) as api:
        first = await api.post(SMS, json=sms_order(written[0]), headers=tenant.headers)
        again = [
            await api.post(SMS, json=sms_order(number), headers=tenant.headers)
            for number in [phone, *written[1:]]
        ]
        shown = await api.get(f"{SHIPMENT}/{shipment_id(first)}", headers=tenant.headers)

    assert first.status_code == 201
    assert [r.status_code for r in again] == [429] * 5
    assert shown.json()["recipients"][0]["destination"] == written[0]


async def test_one_mailbox_is_one_recipient_whatever_the_case_of_its_address(
    stack: Stack, tenant: Tenant
) -> None:
    address = random_email()
    async with api_and_worker_with(stack, recipient_limit=1, recipient_window_seconds=600) as api:
        first = await api.post(EMAIL, json=email_order(address), headers=tenant.headers)
        again = [
            await api.post(EMAIL, json=email_order(written), headers=tenant.headers)
            for written in (address.upper(), address.capitalize(), address.replace(".no", ".NO"))
        ]

    assert first.status_code == 201
    assert [r.status_code for r in again] == [429] * 3


async def test_replays_are_not_counted(stack: Stack, tenant: Tenant) -> None:
    phone = random_phone()
    first = sms_order(phone)
    async with api_and_worker_with(stack, recipient_limit=2) as api:
        created = await api.post(SMS, json=first, headers=tenant.headers)
        replays = [await api.post(SMS, json=first, headers=tenant.headers) for _ in range(3)]
        second = await api.post(SMS, json=sms_order(phone), headers=tenant.headers)
        third = await api.post(SMS, json=sms_order(phone), headers=tenant.headers)

    assert created.status_code == 201
    assert {r.status_code for r in replays} == {200}
    assert (second.status_code, third.status_code) == (201, 429)


async def test_refused_key_can_be_used_later(stack: Stack, tenant: Tenant) -> None:
    """A refused order was never handed over: its key is free, not burned."""
    phone = random_phone()
    async with api_and_worker_with(stack, recipient_limit=1) as api:
        await api.post(SMS, json=sms_order(phone), headers=tenant.headers)
        refused_order = sms_order(phone)
        refused = await api.post(SMS, json=refused_order, headers=tenant.headers)
        elsewhere = {
            **refused_order,
            "recipientSms": {**refused_order["recipientSms"], "phoneNumber": random_phone()},
        }
        later = await api.post(SMS, json=elsewhere, headers=tenant.headers)

    assert refused.status_code == 429
    assert later.status_code == 201


async def test_tenant_limit_spans_recipients_and_spares_other_tenants(
    stack: Stack, tenant: Tenant
) -> None:
    other = stack.headers(f"{tenant.org}b")
    async with api_and_worker_with(stack, tenant_limit=3, tenant_window_seconds=60) as api:
        mine = [await api.post(SMS, json=sms_order(), headers=tenant.headers) for _ in range(4)]
        theirs = await api.post(SMS, json=sms_order(), headers=other)

    assert [r.status_code for r in mine] == [201, 201, 201, 429]
    assert "tenant" in mine[-1].json()["detail"]
    assert 1 <= int(mine[-1].headers["retry-after"]) <= 60
    assert theirs.status_code == 201


async def test_concurrent_orders_cannot_overrun_the_limit(stack: Stack, tenant: Tenant) -> None:
    phone = random_phone()
    async with api_and_worker_with(stack, recipient_limit=3) as api:
        responses = await asyncio.gather(
            *(api.post(SMS, json=sms_order(phone), headers=tenant.headers) for _ in range(10))
        )

    assert sorted(r.status_code for r in responses) == [201] * 3 + [429] * 7
    assert len(await received(stack.simulator, to=phone)) == 3
