"""WebhookEventWorkflow on its own: retries for 24 hours then failed and listed (time-skipping
server), a target refused after DNS resolution, and the retry route sending a failed one again."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.config import Settings
from devstack.temporal_server import temporal_binary
from domain.webhooks import DeliveryStatus, WebhookEvent, event_workflow_id, retry_workflow_id
from tests.support.history import attributes_of, stored_history
from tests.support.routes import WEBHOOKS
from tests.support.stack import Stack, Tenant
from tests.support.webhooks import Receiver, completed_event, deliveries, subscribe, succeeded
from webhooks.sender import Receivers
from worker import build_webhook_worker
from workflows.webhook_event import WebhookEventWorkflow


@asynccontextmanager
async def webhook_worker(client: Client, stack: Stack, **overrides: Any) -> AsyncIterator[str]:
    settings: Settings = stack.settings.model_copy(
        update={"temporal_task_queue": f"wh-{uuid.uuid4().hex[:10]}", **overrides}
    )
    async with (
        Receivers() as receivers,
        build_webhook_worker(client, settings, stack.engine, receivers),
    ):
        yield settings.webhook_task_queue


async def run_event(client: Client, task_queue: str, data: WebhookEvent) -> Any:
    return await client.execute_workflow(
        WebhookEventWorkflow.run,
        data,
        id=event_workflow_id(data.manifest.shipment_id, data.type),
        task_queue=task_queue,
    )


@pytest.fixture(scope="module")
async def own_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of this module's own: once a run of retries is over, the server
    skips years ahead, which the shared one's other tests must not find."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(temporal_binary()).parent / "temporal-test-server")
    )
    yield env
    await env.shutdown()


async def test_a_receiver_down_for_a_day_ends_failed_listed_and_can_be_retried(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, tenant: Tenant
) -> None:
    receiver = Receiver()  # down: nothing listens on its port
    subscription = await subscribe(stack, tenant, receiver.url)
    data = completed_event(tenant.org)
    client = own_time_skipping_env.client
    async with webhook_worker(client, stack) as task_queue:
        result = await run_event(client, task_queue, data)

    (failed,) = await deliveries(stack, tenant, subscription, status="failed")
    assert [o.status for o in result.outcomes] == [DeliveryStatus.FAILED]
    assert failed["attempts"] > 20  # backing off up to an hour apart for 25 hours
    assert "ConnectError" in failed["lastError"]
    async with receiver.running():
        retry = f"{WEBHOOKS}/{subscription['id']}/deliveries/{failed['id']}/retry"
        answer = await stack.api.post(retry, headers=tenant.headers)
        (arrived,) = await receiver.events(1)

        (delivered,) = await succeeded(stack, tenant, subscription)
        retried = await stored_history(
            stack.client.get_workflow_handle(retry_workflow_id(failed["id"]))
        )
    (started,) = attributes_of(retried, "workflow_execution_started")
    assert answer.status_code == 202
    # Ahead of the automatic retries (4), behind first attempts (2).
    assert (started.priority.priority_key, started.priority.fairness_key) == (3, tenant.org)
    assert answer.json()["status"] == "pending"
    assert arrived.webhook_id == failed["id"] == delivered["id"]
    assert arrived.event["data"]["sequenceNumber"] == 7


async def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery(
    stack: Stack, tenant: Tenant
) -> None:
    """The subscription was made where private targets are allowed; the worker that delivers
    refuses them, after resolving `localhost` to 127.0.0.1."""
    async with Receiver().running() as receiver:
        url = f"http://localhost:{receiver.port}/hooks"
        subscription = await subscribe(stack, tenant, url)
        async with webhook_worker(
            stack.client, stack, webhook_allow_private_targets=False
        ) as task_queue:
            result = await run_event(stack.client, task_queue, completed_event(tenant.org))

    (failed,) = await deliveries(stack, tenant, subscription, status="failed")
    assert [o.status for o in result.outcomes] == [DeliveryStatus.FAILED]
    assert "forbidden address (127.0.0.1)" in failed["lastError"]
    assert failed["attempts"] == 1
    assert receiver.received == []
