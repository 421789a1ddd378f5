"""The webhook activities against the real store and a local receiver: an attempt run again
after its receiver answered 2xx posts nothing more."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session
from temporalio.testing import ActivityEnvironment

from activities.webhooks import TargetRules, WebhookActivities
from domain.webhooks import (
    DeliveryOutcome,
    DeliveryRequest,
    DeliveryStatus,
    EventResult,
)
from gateways.standard_webhooks import new_secret
from store import webhooks as store
from tests.support.stack import Stack, Tenant
from tests.support.webhooks import (
    Receiver,
    completed_event,
    deliveries,
    full_width,
    place,
    subscribe,
    subscription_row,
    succeeded,
)
from webhooks.sender import Receivers

pytestmark = pytest.mark.both_databases


async def test_attempts_run_again_after_a_2xx_post_nothing_more(
    stack: Stack, tenant: Tenant
) -> None:
    """As when a worker stops after the receiver's answer, before the activity completes."""
    async with Receiver().running() as receiver:
        subscription = await subscribe(stack, tenant, receiver.url)
        shipment_id = await place(stack.api, tenant, "+4799990001")  # one event: completed

        (delivered,) = await succeeded(stack, tenant, subscription)
        async with Receivers() as receivers:
            rules = TargetRules(https_only=False, allow_private=True, attempt_seconds=1.0)
            activities = WebhookActivities(stack.engine, receivers, rules)
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


DEVELOPMENT = TargetRules(https_only=False, allow_private=True, attempt_seconds=1.0)


def kept_subscription(stack: Stack, tenant: Tenant, url: str) -> dict[str, str]:
    """A subscription written before its URL was checked as it is now (creation refuses it)."""
    row = subscription_row(tenant.org, datetime.now(UTC), url, new_secret())
    subscription_id = row.id  # read before the commit expires the row
    with Session(stack.engine) as session:
        assert store.add_subscription(session, row, limit=10)
        session.commit()
    return {"id": subscription_id}


async def test_a_host_that_is_no_host_name_fails_its_delivery_at_once(
    stack: Stack, tenant: Tenant
) -> None:
    """The attempt fails and says why; nothing is raised to retry it (which would hold the
    order's workflow open), since the URL can never be called."""
    subscription = kept_subscription(stack, tenant, "https://a..example.com/hook")
    async with Receivers() as receivers:
        activities = WebhookActivities(stack.engine, receivers, DEVELOPMENT)
        result = await ActivityEnvironment().run(
            activities.deliver_event, completed_event(tenant.org)
        )

    assert [o.status for o in result.outcomes] == [DeliveryStatus.FAILED]
    assert result.retries == []
    [failed] = await deliveries(stack, tenant, subscription)
    assert failed["attempts"] == 1
    assert "not a valid host name" in failed["lastError"]


async def test_a_host_in_full_width_characters_is_delivered_to_by_its_ascii_name(
    stack: Stack, tenant: Tenant
) -> None:
    """IDNA maps it to 127.0.0.1, which is what the resolver looks up and the Host header says."""
    async with Receiver().running() as receiver:
        url = f"http://{full_width('127.0.0.1')}:{receiver.port}/hooks"
        await subscribe(stack, tenant, url)
        async with Receivers() as receivers:
            activities = WebhookActivities(stack.engine, receivers, DEVELOPMENT)
            result = await ActivityEnvironment().run(
                activities.deliver_event, completed_event(tenant.org)
            )

    assert [o.status for o in result.outcomes] == [DeliveryStatus.SUCCEEDED]
    [received] = receiver.received
    assert received.headers["host"] == f"127.0.0.1:{receiver.port}"
