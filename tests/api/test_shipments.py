"""The shipment manifest: tenant-scoped, readable at once, and equal to the workflow's query."""

import pytest

from api.schemas.shipments import ManifestOut
from domain.manifest import StatusRequest
from tests.support.answers import assert_problem, recipient_status, shipment_id
from tests.support.bodies import new_key, sms_order
from tests.support.polling import completed_manifest
from tests.support.routes import SHIPMENT, SMS
from tests.support.stack import Stack, Tenant
from workflows.instant_notification import InstantNotificationWorkflow

pytestmark = pytest.mark.both_databases


async def queried(stack: Stack, org: str, key: str) -> dict[str, object]:
    manifest = await stack.workflow(org, key).query(
        InstantNotificationWorkflow.status, StatusRequest()
    )
    return ManifestOut.of(manifest).model_dump(mode="json", by_alias=True, exclude_none=True)


async def test_manifest_right_after_the_201(stack: Stack, tenant: Tenant) -> None:
    order = sms_order("+4799990008", sendersReference="ref-9")
    created = await stack.api.post(SMS, json=order, headers=tenant.headers)

    response = await stack.api.get(created.headers["location"], headers=tenant.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["shipmentId"] == shipment_id(created)
    assert body["sendersReference"] == "ref-9"
    assert body["type"] == "Instant"
    assert body["status"] == "Order_Processed"
    [recipient] = body["recipients"]
    assert recipient["type"] == "SMS"
    assert recipient["destination"] == order["recipientSms"]["phoneNumber"]
    assert recipient["status"] == "SMS_Accepted"
    assert body == await queried(stack, tenant.org, order["idempotencyId"])
    await stack.workflow(tenant.org, order["idempotencyId"]).terminate(reason="test cleanup")


async def test_query_and_route_agree_when_delivered(stack: Stack, tenant: Tenant) -> None:
    order = sms_order()
    created = await stack.api.post(SMS, json=order, headers=tenant.headers)

    final = await completed_manifest(stack.api, tenant.headers, shipment_id(created))

    assert recipient_status(final) == "SMS_Delivered"
    assert final == await queried(stack, tenant.org, order["idempotencyId"])


@pytest.mark.parametrize(
    "shipment_id", ["6f1c2a8e-0b4d-4c55-9a57-2f3d7c1e9b40", "not-a-uuid", "feed2"]
)
async def test_unknown_shipment_is_404(stack: Stack, tenant: Tenant, shipment_id: str) -> None:
    response = await stack.api.get(f"{SHIPMENT}/{shipment_id}", headers=tenant.headers)

    assert assert_problem(response, 404)["code"] == "NOT-00003"


async def test_another_tenants_shipment_is_404(stack: Stack, tenant: Tenant) -> None:
    created = await stack.api.post(SMS, json=sms_order(), headers=tenant.headers)

    response = await stack.api.get(created.headers["location"], headers=stack.headers("other"))

    assert response.status_code == 404
    assert response.json()["code"] == "NOT-00003"


async def test_uppercase_shipment_id_is_found(stack: Stack, tenant: Tenant) -> None:
    created = await stack.api.post(SMS, json=sms_order(key=new_key()), headers=tenant.headers)

    response = await stack.api.get(
        f"{SHIPMENT}/{shipment_id(created).upper()}", headers=tenant.headers
    )

    assert response.json()["shipmentId"] == shipment_id(created)
