"""The webhook activities against the real store and a local receiver: an attempt run again
after its receiver answered 2xx posts nothing more."""

import pytest
from temporalio.testing import ActivityEnvironment

from activities.webhooks import TargetRules, WebhookActivities
from domain.webhooks import (
    DeliveryOutcome,
    DeliveryRequest,
    DeliveryStatus,
    EventResult,
)
from tests.support.stack import Stack, Tenant
from tests.support.webhooks import (
    Receiver,
    completed_event,
    deliveries,
    place,
    subscribe,
    succeeded,
)
from webhooks.sender import new_client

pytestmark = pytest.mark.both_databases


async def test_attempts_run_again_after_a_2xx_post_nothing_more(
    stack: Stack, tenant: Tenant
) -> None:
    """As when a worker stops after the receiver's answer, before the activity completes."""
    async with Receiver().running() as receiver:
        subscription = await subscribe(stack, tenant, receiver.url)
        shipment_id = await place(stack.api, tenant, "+4799990001")  # one event: completed

        (delivered,) = await succeeded(stack, tenant, subscription)
        async with new_client() as http:
            rules = TargetRules(https_only=False, allow_private=True, attempt_seconds=1.0)
            activities = WebhookActivities(stack.engine, http, rules)
            environment = ActivityEnvironment()
            # The row's body is what is sent again, whatever the event says beyond its ids.
            event = await environment.run(
                activities.deliver_event, completed_event(tenant.org, shipment_id)
            )
            one = await environment.run(
                activities.deliver_webhook, DeliveryRequest(delivered["id"], 1.0)
            )

    done = DeliveryOutcome(delivered["id"], DeliveryStatus.SUCCEEDED)
    assert event == EventResult(outcomes=[done], retries=[])
    assert one == done
    assert len(receiver.received) == 1
    assert (await deliveries(stack, tenant, subscription))[0]["attempts"] == 1
