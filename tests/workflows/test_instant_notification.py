"""InstantNotificationWorkflow with its real activities: TTL expiry, query, search attributes."""

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from domain.manifest import StatusRequest
from store.models import FeedEntry
from tests.support.bodies import new_key, new_org, sms_order
from tests.support.history import history_so_far
from tests.support.inprocess import workflow_worker
from tests.support.polling import eventually
from tests.support.routes import SMS
from tests.support.simulator import received_for
from tests.support.stack import Stack
from tests.support.store import shipment_row, table_locked
from tests.support.workflows import Handle, notification_input, start_notification
from workflows.instant_notification import InstantNotificationWorkflow


async def test_silent_sms_fails_ttl_at_expiry_plus_grace(
    time_skipping_env: WorkflowEnvironment, stack: Stack
) -> None:
    data = notification_input(new_org(), ttl=600, grace=60, sms="+4799990008")
    async with workflow_worker(time_skipping_env.client, stack) as task_queue:
        handle = await start_notification(time_skipping_env.client, task_queue, data)
        result = await handle.result()

    assert result.status == "SMS_Failed_TTL"
    row = shipment_row(stack.engine, data.org, data.idempotency_id)
    assert row is not None
    with Session(stack.engine) as session:
        entry = session.exec(select(FeedEntry).where(FeedEntry.shipment_id == row.id)).one()
    assert (row.status, row.order_status) == ("SMS_Failed_TTL", "Order_Completed")
    assert row.last_update - row.created_at >= timedelta(seconds=660)
    assert row.last_update - row.created_at < timedelta(seconds=662)
    assert entry.status == "SMS_Failed_TTL"


async def test_silent_email_fails_ttl_and_is_findable_by_status(stack: Stack) -> None:
    org = new_org()
    data = notification_input(org, ttl=2, grace=1, email="silent@example.no")
    async with workflow_worker(stack.client, stack) as task_queue:
        handle = await start_notification(stack.client, task_queue, data)
        accepted = await eventually(lambda: _status_is(handle, "Email_Succeeded"))
        result = await handle.result()
        final = await handle.query(InstantNotificationWorkflow.status, StatusRequest())

    assert accepted
    assert result.status == final.status == "Email_Failed_TTL"
    assert final.order_status == "Order_Completed"
    query = f'ShipmentStatus="Email_Failed_TTL" AND Creator="{org}"'

    async def listed() -> list[str] | None:
        ids = [w.id async for w in stack.client.list_workflows(query)]
        return ids or None

    assert await eventually(listed) == [handle.id]


async def _status_is(handle: Handle, status: str) -> bool:
    manifest = await handle.query(InstantNotificationWorkflow.status, StatusRequest())
    return manifest.status == status


async def test_a_cancel_while_the_row_waits_for_the_store_sends_nothing_and_frees_the_key(
    stack: Stack,
) -> None:
    """The handover writes the order's row before any send. Cancelled while that write waits,
    the order sent nothing: it fails as a handover no provider took, and a retry with its key
    sends the message, once."""
    tenant, key = stack.tenant(), new_key()
    order = sms_order(key=key)
    handle = stack.workflow(tenant.org, key)

    async def started() -> bool:
        return bool(await history_so_far(handle))

    with table_locked(stack.engine):
        placing = asyncio.create_task(stack.api.post(SMS, json=order, headers=tenant.headers))
        await eventually(started)
        await handle.cancel()
        answer = await placing
        # Held past the handover's deadline, by which the write waiting for it gives up.
        await asyncio.sleep(stack.settings.handover_deadline_seconds)
    with pytest.raises(WorkflowFailureError):
        async with asyncio.timeout(30):  # not for ever, as a cancelled order without its row was
            await handle.result()
    retried = await stack.api.post(SMS, json=order, headers=tenant.headers)

    assert answer.status_code == 503
    assert "may have been sent" in answer.json()["detail"]  # at the cancel, not the deadline
    assert retried.status_code == 201, retried.text
    assert [m["submissions"] for m in await received_for(stack.simulator, tenant.org, key)] == [1]
