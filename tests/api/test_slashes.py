"""A trailing slash or another case names the same resource: answered as the route spells it,
never redirected."""

from tests.support.answers import assert_problem, shipment_id
from tests.support.bodies import sms_order
from tests.support.routes import SHIPMENT, SMS
from tests.support.stack import Stack, Tenant


async def test_an_order_and_its_shipment_are_reached_with_a_trailing_slash(
    stack: Stack, tenant: Tenant
) -> None:
    order = sms_order()
    created = await stack.api.post(f"{SMS}/", json=order, headers=tenant.headers)
    repeated = await stack.api.post(SMS, json=order, headers=tenant.headers)
    read = await stack.api.get(f"{SHIPMENT}/{shipment_id(created)}/", headers=tenant.headers)

    assert created.status_code == 201, created.text
    assert repeated.status_code == 200
    assert repeated.json() == created.json()
    assert read.status_code == 200
    assert read.json()["shipmentId"] == shipment_id(created)


async def test_an_unknown_path_with_a_trailing_slash_is_a_404_problem(stack: Stack) -> None:
    response = await stack.api.get("/notifications/api/v1/future/nothing/")
    assert_problem(response, 404)


async def test_a_path_in_another_case_reaches_its_route(stack: Stack, tenant: Tenant) -> None:
    """ASP.NET matches a route's path whatever its case, so Altinn answers these."""
    created = await stack.api.post(SMS.upper(), json=sms_order(), headers=tenant.headers)
    shipment = shipment_id(created)
    read = await stack.api.get(f"{SHIPMENT.upper()}/{shipment}", headers=tenant.headers)

    assert created.status_code == 201, created.text
    assert read.status_code == 200, read.text
    assert read.json()["shipmentId"] == shipment
    # A literal segment before a parameter, as ASP.NET prefers it: the feed, not a shipment.
    feed = await stack.api.get(f"{SHIPMENT}/FEED", params={"seq": "0"}, headers=tenant.headers)
    assert feed.status_code == 200, feed.text
    assert isinstance(feed.json(), list)
