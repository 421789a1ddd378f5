"""What operators find a shipment by in the Temporal UI: set by the order's start, updated
twice (after the handover and at the final status), so Temporal writes its visibility record
three times per order, not four."""

import pytest
from temporalio.api.enums.v1 import EventType

from tests.support.answers import shipment_id
from tests.support.bodies import sms_order
from tests.support.history import completed_history
from tests.support.polling import completed_manifest
from tests.support.routes import SMS
from tests.support.stack import Stack, Tenant
from workflows import search_attributes as sa


async def test_an_order_starts_with_its_search_attributes_and_updates_them_twice(
    stack: Stack, tenant: Tenant
) -> None:
    order = sms_order(sendersReference="ref-42")

    response = await stack.api.post(SMS, json=order, headers=tenant.headers)
    manifest = await completed_manifest(stack.api, tenant.headers, shipment_id(response))

    handle = stack.workflow(tenant.org, order["idempotencyId"])
    events = await completed_history(handle)
    found = (await handle.describe()).typed_search_attributes
    started = events[0].workflow_execution_started_event_attributes.search_attributes
    upserts = [
        e for e in events if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]
    assert response.status_code == 201
    assert manifest["status"] == "Order_Completed"
    assert set(started.indexed_fields) == {
        "ShipmentId",
        "ShipmentStatus",
        "NotificationChannel",
        "Creator",
        "SendersReference",
    }
    assert len(upserts) == 2
    assert (
        found.get(sa.SHIPMENT_ID),
        found.get(sa.SHIPMENT_STATUS),
        found.get(sa.NOTIFICATION_CHANNEL),
        found.get(sa.CREATOR),
        found.get(sa.SENDERS_REFERENCE),
        found.get(sa.PROVIDER),
    ) == (shipment_id(response), "SMS_Delivered", "SMS", tenant.org, "ref-42", "simulator")


@pytest.mark.parametrize(
    ("reference", "found_by"),
    [("€" * 1024, "€" * 255), ("😀" * 1024, "😀" * 170), ("r" * 1024, "r" * 255)],
)
async def test_a_long_reference_is_found_by_its_start_and_kept_whole(
    stack: Stack, tenant: Tenant, reference: str, found_by: str
) -> None:
    order = sms_order(sendersReference=reference)

    response = await stack.api.post(SMS, json=order, headers=tenant.headers)
    manifest = await completed_manifest(stack.api, tenant.headers, shipment_id(response))
    found = await stack.workflow(tenant.org, order["idempotencyId"]).describe()

    assert response.status_code == 201, response.text
    assert response.json()["notification"]["sendersReference"] == reference
    assert manifest["sendersReference"] == reference
    assert found.typed_search_attributes.get(sa.SENDERS_REFERENCE) == found_by
