"""The webhook activities against the real store and a local receiver: an attempt run again
after its receiver answered 2xx posts nothing more."""

from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from activities.webhooks import TargetRules, WebhookActivities
from domain.manifest import ShipmentManifest
from domain.webhooks import (
    DeliveryOutcome,
    DeliveryRequest,
    DeliveryStatus,
    EventResult,
    EventType,
    WebhookEvent,
)
from tests.support.polling import eventually
from tests.support.stack import Stack, Tenant
from tests.support.webhooks import Receiver, deliveries, place, subscribe
from webhooks.sender import new_client

pytestmark = pytest.mark.both_databases


def completed(org: str, shipment_id: str) -> WebhookEvent:
    manifest = ShipmentManifest(
        shipment_id=shipment_id,
        senders_reference=None,
        order_status="Order_Completed",
        channel="SMS",
        destination="+4799990001",
        status="SMS_Failed_InvalidRecipient",
        last_update=datetime.now(UTC),
    )
    return WebhookEvent(org, EventType.COMPLETED, manifest, manifest.last_update)


async def test_attempts_run_again_after_a_2xx_post_nothing_more(
    stack: Stack, tenant: Tenant
) -> None:
    """As when a worker stops after the receiver's answer, before the activity completes."""
    async with Receiver().running() as receiver:
        subscription = await subscribe(stack, tenant, receiver.url)
        shipment_id = await place(stack.api, tenant, "+4799990001")  # one event: completed

        async def succeeded() -> list[dict[str, Any]] | None:
            return await deliveries(stack, tenant, subscription, status="succeeded") or None

        (delivered,) = await eventually(succeeded)
        async with new_client() as http:
            rules = TargetRules(https_only=False, allow_private=True, attempt_seconds=1.0)
            activities = WebhookActivities(stack.engine, http, rules)
            environment = ActivityEnvironment()
            event = await environment.run(
                activities.deliver_event, completed(tenant.org, shipment_id)
            )
            one = await environment.run(
                activities.deliver_webhook, DeliveryRequest(delivered["id"], 1.0)
            )

    done = DeliveryOutcome(delivered["id"], DeliveryStatus.SUCCEEDED)
    assert event == EventResult(outcomes=[done], retries=[])
    assert one == done
    assert len(receiver.received) == 1
    assert (await deliveries(stack, tenant, subscription))[0]["attempts"] == 1
