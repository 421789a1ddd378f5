"""Object-level authorisation, route by route: one tenant can neither read nor change another
tenant's shipments, feed entries or idempotency keys."""

import pytest

from domain.ids import client_reference, workflow_id
from tests.conftest import Stack, Tenant
from tests.helpers import (
    DEPRECATED,
    EMAIL,
    FEED,
    REPORTS,
    SMS,
    completed_manifest,
    email_order,
    sms_order,
)


@pytest.fixture
def intruder(stack: Stack, tenant: Tenant) -> Tenant:
    org = f"{tenant.org}x"
    return Tenant(org=org, headers=stack.headers(org))


@pytest.mark.parametrize("route", [SMS, EMAIL, DEPRECATED])
async def test_the_same_key_is_another_order_for_another_tenant(
    stack: Stack, tenant: Tenant, intruder: Tenant, route: str
) -> None:
    order = email_order() if route == EMAIL else sms_order()
    if route == DEPRECATED:
        order = {
            "idempotencyId": order["idempotencyId"],
            "recipient": {"recipientSms": order["recipientSms"]},
        }
    mine = await stack.api.post(route, json=order, headers=tenant.headers)

    theirs = await stack.api.post(route, json=order, headers=intruder.headers)
    mine_again = await stack.api.post(route, json=order, headers=tenant.headers)

    assert (mine.status_code, theirs.status_code, mine_again.status_code) == (201, 201, 200)
    assert theirs.json()["notification"]["shipmentId"] != mine.json()["notification"]["shipmentId"]
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
    await completed_manifest(
        stack.api, tenant.headers, created.json()["notification"]["shipmentId"]
    )

    for params in ({}, {"orderBy": "desc"}, {"seq": 0, "pageSize": 500}):
        response = await stack.api.get(FEED, params=params, headers=intruder.headers)
        assert response.status_code == 200
        assert response.json() == []
    assert len((await stack.api.get(FEED, headers=tenant.headers)).json()) == 1


async def test_a_tenant_token_cannot_deliver_reports(stack: Stack, tenant: Tenant) -> None:
    order = sms_order("+4799990008")
    created = await stack.api.post(SMS, json=order, headers=tenant.headers)
    reference = client_reference(workflow_id(tenant.org, order["idempotencyId"]))
    report = {"reference": reference, "status": "FAILED", "channel": "SMS"}

    response = await stack.api.post(
        f"{REPORTS}/simulator", json=report, headers=stack.headers(tenant.org)
    )

    assert response.status_code == 401
    manifest = (await stack.api.get(created.headers["location"], headers=tenant.headers)).json()
    assert manifest["recipients"][0]["status"] == "SMS_Accepted"
    handle = stack.client.get_workflow_handle(workflow_id(tenant.org, order["idempotencyId"]))
    await handle.terminate(reason="test cleanup")
