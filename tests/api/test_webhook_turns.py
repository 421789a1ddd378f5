"""Webhook slots and connections shared by every tenant: a first attempt, and a retry asked for,
go ahead of the retries waiting for a slot, and a tenant's backlog or hanging receivers do not
hold up another tenant's events."""

import asyncio
import uuid

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from core.config import Settings
from devstack.processes import free_port
from tests.support.inprocess import api_and_worker
from tests.support.polling import eventually
from tests.support.routes import WEBHOOKS
from tests.support.stack import Stack, Tenant
from tests.support.webhooks import Receiver, place, succeeded


def one_slot(stack: Stack) -> Settings:
    """The webhooks' worker with one slot, so every other attempt waits for it in Temporal."""
    return stack.settings.model_copy(
        update={
            "api_port": free_port(),
            "temporal_task_queue": f"turns-{uuid.uuid4().hex[:8]}",
            "webhook_max_concurrent_deliveries": 1,
            "webhook_timeout_seconds": 60,
            "worker_shutdown_grace_seconds": 0.5,
        }
    )


async def queued(stack: Stack, settings: Settings, count: int) -> None:
    """Wait until at least `count` webhook attempts wait for a slot."""
    request = DescribeTaskQueueRequest(
        namespace=stack.client.namespace,
        task_queue=TaskQueue(name=settings.webhook_task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        report_stats=True,
    )

    async def backlog() -> bool:
        described = await stack.client.workflow_service.describe_task_queue(request)
        return described.stats.approximate_backlog_count >= count

    await eventually(backlog, within=20)


async def four_retries(
    api: httpx.AsyncClient, stack: Stack, settings: Settings, tenant: Tenant, receiver: Receiver
) -> None:
    """Two orders of the tenant's, whose four events the receiver refuses: then it holds the
    slot with one retry, and the other three wait for it."""
    assert receiver.gate is not None
    before = len(receiver.received)
    for _ in range(2):
        await place(api, tenant)
    await receiver.events(before + 4)
    receiver.gate.clear()
    await receiver.events(before + 5)
    await queued(stack, settings, 3)


async def settled(receiver: Receiver) -> None:
    """Wait until no new request has reached the receiver for a second: the burst of
    connections is open, and the process that opened them is idle again."""

    async def still() -> bool:
        before = len(receiver.received)
        await asyncio.sleep(1)
        return len(receiver.received) == before

    await eventually(still, within=30)


def shipment_of(receiver: Receiver, index: int) -> str:
    shipment: str = receiver.received[index].event["data"]["shipmentId"]
    return shipment


async def test_a_first_attempt_goes_ahead_of_the_retries_waiting_for_a_slot(
    stack: Stack, tenant: Tenant
) -> None:
    settings = one_slot(stack)
    other = stack.tenant()
    gate = asyncio.Event()
    gate.set()
    receiver = Receiver(status=500, gate=gate)
    async with api_and_worker(settings, stack.engine, stack.connection) as api, receiver.running():
        for subscriber in (tenant, other):
            await api.post(WEBHOOKS, json={"url": receiver.url}, headers=subscriber.headers)
        await four_retries(api, stack, settings, tenant, receiver)
        first = await place(api, other)
        await queued(stack, settings, 4)
        gate.set()
        await receiver.events(6)

    assert shipment_of(receiver, 5) == first


async def test_a_retry_asked_for_goes_ahead_of_the_retries_waiting_for_a_slot(
    stack: Stack, tenant: Tenant
) -> None:
    """All of one tenant's, so only the priority key can put it first."""
    settings = one_slot(stack)
    gate = asyncio.Event()
    gate.set()
    receiver = Receiver(gate=gate)
    async with api_and_worker(settings, stack.engine, stack.connection) as api, receiver.running():
        created = await api.post(WEBHOOKS, json={"url": receiver.url}, headers=tenant.headers)
        await place(api, tenant)
        asked, _ = await succeeded(stack, tenant, created.json(), count=2)
        receiver.status = 500
        await four_retries(api, stack, settings, tenant, receiver)
        route = f"{WEBHOOKS}/{created.json()['id']}/deliveries/{asked['id']}/retry"
        assert (await api.post(route, headers=tenant.headers)).status_code == 202
        await queued(stack, settings, 4)
        gate.set()
        await receiver.events(8)

    assert receiver.received[7].webhook_id == asked["id"]


async def test_a_tenants_backlog_does_not_hold_up_another_tenants_events(
    stack: Stack, tenant: Tenant
) -> None:
    settings = one_slot(stack)
    other = stack.tenant()
    gate = asyncio.Event()
    receiver = Receiver(gate=gate)
    async with api_and_worker(settings, stack.engine, stack.connection) as api, receiver.running():
        for subscriber in (tenant, other):
            await api.post(WEBHOOKS, json={"url": receiver.url}, headers=subscriber.headers)
        for _ in range(3):
            await place(api, tenant)
        await receiver.events(1)  # one event holds the slot ...
        await queued(stack, settings, 5)  # ... and the orders' five others wait for it
        late = await place(api, other)
        await queued(stack, settings, 6)
        gate.set()
        await receiver.events(8)

    served = [shipment_of(receiver, i) for i in range(1, 8)]
    # First in, first out would serve it after all five.
    assert served.index(late) <= 1, served


async def test_hanging_receivers_do_not_hold_up_another_tenants_events(
    stack: Stack, tenant: Tenant
) -> None:
    settings = one_slot(stack).model_copy(update={"webhook_max_concurrent_deliveries": 100})
    other = stack.tenant()
    hanging, answering = Receiver(hang=True), Receiver()
    limit = stack.settings.webhook_limit_per_tenant
    async with (
        api_and_worker(settings, stack.engine, stack.connection) as api,
        hanging.running(),
        answering.running(),
    ):
        for n in range(limit):
            await api.post(WEBHOOKS, json={"url": f"{hanging.url}?n={n}"}, headers=tenant.headers)
        await api.post(WEBHOOKS, json={"url": answering.url}, headers=other.headers)
        for _ in range(25):
            await place(api, tenant)
        # More requests than a worker once had connections, each held for a minute.
        await hanging.events(25 * limit)
        await settled(hanging)
        late = await place(api, other)
        (arrived,) = await answering.events(1)

    assert arrived.event["data"]["shipmentId"] == late
