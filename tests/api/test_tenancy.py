"""Object-level authorisation, route by route: one tenant can neither read nor change another
tenant's shipments, feed entries or idempotency keys."""

import pytest

from tests.support.answers import recipient_status, shipment_id
from tests.support.bodies import deprecated_order, email_order, reference_of, sms_order
from tests.support.polling import completed_manifest
from tests.support.reports import sms_report
from tests.support.routes import DEPRECATED, EMAIL, FEED, SIMULATOR_REPORTS, SMS
from tests.support.stack import Stack, Tenant


@pytest.fixture
def intruder(stack: Stack, tenant: Tenant) -> Tenant:
    return stack.tenant(f"{tenant.org}x")


@pytest.mark.parametrize("route", [SMS, EMAIL, DEPRECATED])
async def test_the_same_key_is_another_order_for_another_tenant(
    stack: Stack, tenant: Tenant, intruder: Tenant, route: str
) -> None:
    order = email_order() if route == EMAIL else sms_order()
    if route == DEPRECATED:
        order = deprecated_order(order)
    mine = await stack.api.post(route, json=order, headers=tenant.headers)

    theirs = await stack.api.post(route, json=order, headers=intruder.headers)
    mine_again = await stack.api.post(route, json=order, headers=tenant.headers)

    assert (mine.status_code, theirs.status_code, mine_again.status_code) == (201, 201, 200)
    assert shipment_id(theirs) != shipment_id(mine)
    assert mine_again.json() == mine.json()


async def test_shipment_of_another_tenant_is_not_found(
    stack: Stack, tenant: Tenant, intruder: Tenant
) -> None:
    created = await stack.api.post(SMS, json=sms_order(), headers=tenant.headers)
    location = created.headers["location"]

    theirs = await stack.api.get(location, headers=intruder.headers)
    mine = await stack.api.get(location, headers=tenant.headers)

    assert theirs.status_code == 404
    assert theirs.json()["code"] == "NOT-00003"
    assert mine.status_code == 200


async def test_feed_entries_of_another_tenant_are_invisible(
    stack: Stack, tenant: Tenant, intruder: Tenant
) -> None:
    created = await stack.api.post(SMS, json=sms_order(), headers=tenant.headers)
    await completed_manifest(stack.api, tenant.headers, shipment_id(created))

    for params in ({}, {"orderBy": "desc"}, {"seq": 0, "pageSize": 500}):
        response = await stack.api.get(FEED, params=params, headers=intruder.headers)
        assert response.status_code == 200
        assert response.json() == []
    assert len((await stack.api.get(FEED, headers=tenant.headers)).json()) == 1


async def test_a_tenant_token_cannot_deliver_reports(stack: Stack, tenant: Tenant) -> None:
    order = sms_order("+4799990008")
    created = await stack.api.post(SMS, json=order, headers=tenant.headers)
    report = sms_report(reference_of(tenant.org, order["idempotencyId"]), "FAILED")

    response = await stack.api.post(SIMULATOR_REPORTS, json=report, headers=tenant.headers)

    assert response.status_code == 401
    manifest = (await stack.api.get(created.headers["location"], headers=tenant.headers)).json()
    assert recipient_status(manifest) == "SMS_Accepted"
    await stack.workflow(tenant.org, order["idempotencyId"]).terminate(reason="test cleanup")
