"""The status feed: completed shipments of the caller, paged by an exclusive cursor."""

from typing import Any

import pytest

from api.routes.shipments import MAX_PAGE_SIZE
from tests.support.answers import recipient_status, shipment_id
from tests.support.bodies import sms_order
from tests.support.polling import completed_manifest
from tests.support.routes import FEED, SMS
from tests.support.stack import Stack, Tenant
from tests.support.store import complete as complete_in_store
from tests.support.store import new_shipment

pytestmark = pytest.mark.both_databases


async def complete(stack: Stack, tenant: Tenant, count: int) -> list[str]:
    """Refused recipients complete at the handover, so their feed entries exist at once."""
    ids = []
    for n in range(count):
        order = sms_order("+4799990001", sendersReference=f"r{n}")
        response = await stack.api.post(SMS, json=order, headers=tenant.headers)
        ids.append(shipment_id(response))
    return ids


async def feed(stack: Stack, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    response = await stack.api.get(FEED, params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


async def test_entries_in_completion_order_with_the_snapshot(stack: Stack, tenant: Tenant) -> None:
    ids = await complete(stack, tenant, 3)

    entries = await feed(stack, tenant)

    assert [e["shipmentId"] for e in entries] == ids
    seqs = [e["sequenceNumber"] for e in entries]
    assert seqs == sorted(seqs)
    first = entries[0]
    assert first["shipmentType"] == "Instant"
    assert first["status"] == "Order_Completed"
    assert first["sendersReference"] == "r0"
    assert recipient_status(first) == "SMS_Failed_InvalidRecipient"
    assert first["recipients"][0]["destination"] == "+4799990001"


async def test_following_the_cursor_reads_every_entry_once(stack: Stack, tenant: Tenant) -> None:
    ids = await complete(stack, tenant, 5)
    seen: list[str] = []
    cursor = 0

    while page := await feed(stack, tenant, seq=cursor, pageSize=2):
        assert len(page) <= 2
        seen += [e["shipmentId"] for e in page]
        cursor = page[-1]["sequenceNumber"]

    assert seen == ids


async def test_descending_pages_newest_first_below_the_cursor(stack: Stack, tenant: Tenant) -> None:
    ids = await complete(stack, tenant, 4)

    newest = await feed(stack, tenant, orderBy="desc", pageSize=2)
    older = await feed(stack, tenant, orderBy="desc", pageSize=2, seq=newest[-1]["sequenceNumber"])

    assert [e["shipmentId"] for e in newest + older] == ids[::-1]


async def test_order_by_is_case_insensitive(stack: Stack, tenant: Tenant) -> None:
    ids = await complete(stack, tenant, 2)

    entries = await feed(stack, tenant, orderBy="DESC")

    assert [e["shipmentId"] for e in entries] == ids[::-1]


async def test_a_page_holds_at_most_its_cap(stack: Stack, tenant: Tenant) -> None:
    """More completed shipments than a page holds, written as the record activity writes them:
    the default page and the largest asked for are both the cap."""
    for _ in range(MAX_PAGE_SIZE + 1):
        complete_in_store(stack.engine, new_shipment(stack.engine, tenant.org))

    default = await feed(stack, tenant)
    asked = await feed(stack, tenant, pageSize=10_000)

    assert len(default) == len(asked) == MAX_PAGE_SIZE == 500


@pytest.mark.parametrize(("size", "expected"), [(0, 1), (-5, 1), (1, 1), (10_000, 3)])
async def test_page_size_is_clamped(stack: Stack, tenant: Tenant, size: int, expected: int) -> None:
    await complete(stack, tenant, 3)

    assert len(await feed(stack, tenant, pageSize=size)) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"seq": -1}, "seq"),
        ({"orderBy": "up"}, "orderBy"),
        ({"seq": "abc"}, "seq"),
        # Python's int() reads `1_0` as 10, and pydantic `10.0` as 10; .NET refuses both.
        ({"seq": "1_0"}, "seq"),
        ({"pageSize": "10.0"}, "pageSize"),
        ({"seq": "\u00a010"}, "seq"),  # a no-break space, which .NET does not skip
    ],
)
async def test_invalid_parameters_are_400(
    stack: Stack, tenant: Tenant, params: dict[str, Any], field: str
) -> None:
    response = await stack.api.get(FEED, params=params, headers=tenant.headers)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.json()["errors"]


async def test_pending_shipments_are_not_in_the_feed(stack: Stack, tenant: Tenant) -> None:
    await stack.api.post(SMS, json=sms_order("+4799990008"), headers=tenant.headers)

    assert await feed(stack, tenant) == []


async def test_another_tenant_sees_none_of_it(stack: Stack, tenant: Tenant) -> None:
    await complete(stack, tenant, 2)
    other = stack.tenant(f"{tenant.org}z")

    assert await feed(stack, other) == []


async def test_delivered_shipment_enters_the_feed_once(stack: Stack, tenant: Tenant) -> None:
    created = await stack.api.post(SMS, json=sms_order("+4799990010"), headers=tenant.headers)
    await completed_manifest(stack.api, tenant.headers, shipment_id(created))

    entries = await feed(stack, tenant)

    assert [e["shipmentId"] for e in entries] == [shipment_id(created)]
    assert recipient_status(entries[0]) == "SMS_Delivered"
