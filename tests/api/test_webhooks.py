"""Webhooks on the real stack: signed events arrive and verify with the official Standard
Webhooks library, survive a receiver that is down, sign with both secrets while one is rotated,
stop at 410, stay within their tenant, and take the tenant as their fairness key."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from devstack.processes import free_port
from domain.ids import MAX_ORG_LENGTH
from domain.webhooks import FIRST_RETRY, retry_workflow_id
from store.models import WebhookSubscription
from tests.support.bodies import new_org, sms_order
from tests.support.history import attributes_of, completed_history, stored_history
from tests.support.inprocess import api_and_worker
from tests.support.metrics import metric
from tests.support.polling import completed_manifest, eventually
from tests.support.routes import FEED, SMS, WEBHOOKS
from tests.support.stack import Stack, Tenant
from tests.support.webhooks import Receiver, deliveries, place, subscribe, succeeded

# On PostgreSQL the order path learns of the tenant's subscriptions in a server-side function.
pytestmark = pytest.mark.both_databases


async def test_events_arrive_signed_and_match_the_manifest_and_the_feed(
    stack: Stack, tenant: Tenant
) -> None:
    async with Receiver().running() as receiver:
        subscription = await subscribe(stack, tenant, receiver.url)
        shipment_id = await place(stack.api, tenant)
        await completed_manifest(stack.api, tenant.headers, shipment_id)
        arrived = await receiver.events(2)

    verifier = Webhook(subscription["secret"])
    events = {r.event["type"]: verifier.verify(r.body, r.headers) for r in arrived}
    assert sorted(events) == ["shipment.accepted", "shipment.completed"]
    accepted = events["shipment.accepted"]["data"]
    assert accepted["shipmentId"] == shipment_id
    assert accepted["status"] == "Order_Processed"
    assert accepted["recipients"][0]["status"] == "SMS_Accepted"
    feed = (await stack.api.get(FEED, headers=tenant.headers)).json()
    assert events["shipment.completed"]["data"] == feed[0]
    assert feed[0]["sequenceNumber"] > 0
    listed = await deliveries(stack, tenant, subscription)
    assert {d["id"] for d in listed} == {r.webhook_id for r in arrived}
    assert {d["status"] for d in listed} == {"succeeded"}


async def test_the_orders_workflow_makes_the_first_attempt_itself(
    stack: Stack, tenant: Tenant
) -> None:
    """No workflow of its own for a delivery that succeeds at once: the attempt is an activity
    of the order's workflow, on the webhooks' task queue."""
    order = sms_order("+4799990001")  # refused at handover: one event only
    async with Receiver().running() as receiver:
        subscription = await subscribe(stack, tenant, receiver.url)
        await stack.api.post(SMS, json=order, headers=tenant.headers)
        (arrived,) = await receiver.events(1)
        events = await completed_history(stack.workflow(tenant.org, order["idempotencyId"]))

    scheduled = [a.activity_type.name for a in attributes_of(events, "activity_task_scheduled")]
    (delivered,) = await deliveries(stack, tenant, subscription)
    assert scheduled == ["deliver_event"]
    assert attributes_of(events, "start_child_workflow_execution_initiated") == []
    assert (delivered["id"], delivered["status"], delivered["attempts"]) == (
        arrived.webhook_id,
        "succeeded",
        1,
    )


async def test_a_failed_first_attempt_is_retried_a_backoff_step_later(
    stack: Stack, tenant: Tenant
) -> None:
    order = sms_order("+4799990001")
    async with Receiver(status=503).running() as receiver:
        subscription = await subscribe(stack, tenant, receiver.url)
        await stack.api.post(SMS, json=order, headers=tenant.headers)
        first, _ = await receiver.events(2)
        receiver.status = 204
        events = await completed_history(stack.workflow(tenant.org, order["idempotencyId"]))
        retry = stack.client.get_workflow_handle(retry_workflow_id(first.webhook_id))
        outcome = (await retry.result())["outcomes"][0]
        retried = await stored_history(retry)

    (child,) = attributes_of(events, "start_child_workflow_execution_initiated")
    first_attempts = [
        a
        for a in attributes_of(events, "activity_task_scheduled")
        if a.activity_type.name == "deliver_event"
    ]
    (timer,) = attributes_of(retried, "timer_started")
    (delivered,) = await deliveries(stack, tenant, subscription)
    assert child.workflow_type.name == "WebhookRetryWorkflow"
    assert child.workflow_id == retry_workflow_id(first.webhook_id)
    # First attempts go ahead of retries; each tenant takes its turn.
    assert {(a.priority.priority_key, a.priority.fairness_key) for a in first_attempts} == {
        (2, tenant.org)
    }
    assert (child.priority.priority_key, child.priority.fairness_key) == (4, tenant.org)
    assert timer.start_to_fire_timeout.ToTimedelta() == FIRST_RETRY
    assert outcome == {"delivery_id": first.webhook_id, "status": "succeeded"}
    assert delivered["attempts"] == len(receiver.received) >= 3
    assert {r.webhook_id for r in receiver.received} == {first.webhook_id}


async def test_the_longest_tenant_is_a_fairness_key_temporal_takes(stack: Stack) -> None:
    """Temporal refuses a fairness key over 64 bytes, and the tenant is the key: a first attempt
    and a retry of a tenant of MAX_ORG_LENGTH characters go out all the same."""
    tenant = stack.tenant(org=new_org().ljust(MAX_ORG_LENGTH, "x"))
    assert len(tenant.org.encode()) == 64  # the longest key Temporal takes
    async with Receiver(status=500).running() as receiver:
        subscription = await subscribe(stack, tenant, receiver.url)
        await place(stack.api, tenant)
        await eventually(lambda: retried(receiver), within=20)
        # Its retries would go on for a day, and count in the next tests' metrics.
        gone = await stack.api.delete(f"{WEBHOOKS}/{subscription['id']}", headers=tenant.headers)

    assert gone.status_code == 204


async def retried(receiver: Receiver) -> bool:
    """Some event reached the receiver twice."""
    ids = [r.webhook_id for r in receiver.received]
    return len(set(ids)) < len(ids)


async def test_a_receiver_that_was_down_gets_every_event_with_its_webhook_id(
    stack: Stack, tenant: Tenant
) -> None:
    receiver = Receiver()  # not listening yet: connections are refused
    subscription = await subscribe(stack, tenant, receiver.url)
    shipment_id = await place(stack.api, tenant)
    await completed_manifest(stack.api, tenant.headers, shipment_id)

    async def refused_twice() -> list[dict[str, Any]] | None:
        listed = await deliveries(stack, tenant, subscription)
        return listed if len(listed) == 2 and all(d["attempts"] >= 1 for d in listed) else None

    pending = await eventually(refused_twice)
    async with receiver.running():
        arrived = await receiver.events(2)

    assert {d["status"] for d in pending} == {"pending"}
    assert all(d["lastError"] for d in pending)
    assert sorted(r.webhook_id for r in arrived) == sorted(d["id"] for d in pending)
    for received in arrived:
        Webhook(subscription["secret"]).verify(received.body, received.headers)


async def test_both_secrets_sign_during_the_overlap_after_a_rotation(
    stack: Stack, tenant: Tenant
) -> None:
    async with Receiver().running() as receiver:
        subscription = await subscribe(stack, tenant, receiver.url)
        rotate = f"{WEBHOOKS}/{subscription['id']}/rotate-secret"
        rotated = (await stack.api.post(rotate, headers=tenant.headers)).json()
        await place(stack.api, tenant, "+4799990001")  # refused at handover: one event only
        during = (await receiver.events(1))[0]
        _end_overlap(stack, subscription["id"])
        await place(stack.api, tenant, "+4799990001")
        after = (await receiver.events(2))[1]

    assert rotated["secret"] != subscription["secret"]
    assert rotated["previousSecretExpiresAt"]
    assert len(during.headers["webhook-signature"].split()) == 2
    for secret in (subscription["secret"], rotated["secret"]):
        Webhook(secret).verify(during.body, during.headers)
    assert len(after.headers["webhook-signature"].split()) == 1
    Webhook(rotated["secret"]).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(subscription["secret"]).verify(after.body, after.headers)


def _end_overlap(stack: Stack, subscription_id: str) -> None:
    with Session(stack.engine) as session:
        session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == subscription_id)  # type: ignore[arg-type]
            .values(previous_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()


async def test_410_gone_disables_the_subscription(stack: Stack, tenant: Tenant) -> None:
    async with Receiver(status=410).running() as receiver:
        subscription = await subscribe(stack, tenant, receiver.url)
        await place(stack.api, tenant, "+4799990001")
        await receiver.events(1)
        url = f"{WEBHOOKS}/{subscription['id']}"

        async def disabled() -> dict[str, Any] | None:
            body: dict[str, Any] = (await stack.api.get(url, headers=tenant.headers)).json()
            return body if not body["active"] else None

        await eventually(disabled)
        failed = await deliveries(stack, tenant, subscription, status="failed")
        shipment_id = await place(stack.api, tenant, "+4799990001")
        await completed_manifest(stack.api, tenant.headers, shipment_id)

    assert [(d["lastStatusCode"], d["attempts"]) for d in failed] == [(410, 1)]
    assert len(receiver.received) == 1
    assert len(await deliveries(stack, tenant, subscription)) == 1


async def test_orders_flow_while_a_receiver_hangs(stack: Stack, tenant: Tenant) -> None:
    """Every webhook slot of the worker held by a receiver that never answers: orders are
    still answered, completed and in the feed, on slots and a task queue of their own."""
    slots = 2
    settings = stack.settings.model_copy(
        update={
            "api_port": free_port(),
            "temporal_task_queue": f"hang-{uuid.uuid4().hex[:8]}",
            "webhook_max_concurrent_deliveries": slots,
            "webhook_timeout_seconds": 60,
            "worker_shutdown_grace_seconds": 0.5,
        }
    )
    async with (
        api_and_worker(settings, stack.engine, stack.connection) as api,
        Receiver(hang=True).running() as receiver,
    ):
        created = await api.post(WEBHOOKS, json={"url": receiver.url}, headers=tenant.headers)
        held = [await place(api, tenant) for _ in range(slots + 1)]
        await receiver.events(slots)
        flowing = [await place(api, tenant) for _ in range(3)]
        completed = [
            await completed_manifest(api, tenant.headers, shipment_id)
            for shipment_id in held + flowing
        ]
        feed = (await api.get(FEED, headers=tenant.headers)).json()
        hanging = len(receiver.received)
        await api.delete(f"{WEBHOOKS}/{created.json()['id']}", headers=tenant.headers)

    assert hanging == slots  # the webhook slots are all taken, and no more
    assert {m["status"] for m in completed} == {"Order_Completed"}
    assert {e["shipmentId"] for e in feed} == set(held + flowing)


async def test_metrics_count_deliveries_and_failing_subscriptions(
    stack: Stack, tenant: Tenant
) -> None:
    before = (await stack.api.get("/metrics")).text
    receiver = Receiver()  # down
    subscription = await subscribe(stack, tenant, receiver.url)
    await place(stack.api, tenant, "+4799990001")

    async def refused() -> list[dict[str, Any]] | None:
        listed = await deliveries(stack, tenant, subscription)
        return listed if listed and listed[0]["attempts"] >= 1 else None

    await eventually(refused)
    failing = (await stack.api.get("/metrics")).text
    async with receiver.running():
        await receiver.events(1)

        await succeeded(stack, tenant, subscription)
    after = (await stack.api.get("/metrics")).text

    deliveries_total = "notifications_webhook_deliveries_total"
    failing_subscriptions = "notifications_webhook_failing_subscriptions"
    assert metric(failing, failing_subscriptions) > metric(before, failing_subscriptions)
    assert metric(after, deliveries_total, outcome="retried") > metric(
        before, deliveries_total, outcome="retried"
    )
    assert metric(after, deliveries_total, outcome="delivered") > metric(
        before, deliveries_total, outcome="delivered"
    )
    assert metric(after, "notifications_webhook_delivery_lag_seconds_count") > metric(
        before, "notifications_webhook_delivery_lag_seconds_count"
    )
