"""InstantNotificationWorkflow on its own: TTL expiry, the query, search attributes."""

import uuid
from datetime import timedelta

from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.ids import workflow_id
from domain.manifest import StatusRequest
from domain.orders import EmailMessage, NotificationInput, SmsMessage, Timing
from store import shipments
from store.models import FeedEntry
from tests.conftest import Stack, workflow_worker
from tests.helpers import eventually
from workflows.instant_notification import InstantNotificationWorkflow


def order(
    org: str, *, ttl: int, grace: int, sms: str | None = None, email: str | None = None
) -> NotificationInput:
    return NotificationInput(
        org=org,
        idempotency_id=f"key-{uuid.uuid4().hex}",
        request_id=str(uuid.uuid4()),
        fingerprint="f" * 64,
        timing=Timing(ttl_seconds=ttl, grace_seconds=grace, handover_seconds=5, attempt_seconds=3),
        sms=SmsMessage(sms, "Altinn", "Code 1") if sms else None,
        email=EmailMessage(email, "noreply@example.no", "Code", "Code 1") if email else None,
    )


async def start(client: Client, task_queue: str, data: NotificationInput):  # type: ignore[no-untyped-def]
    return await client.start_workflow(
        InstantNotificationWorkflow.run,
        data,
        id=workflow_id(data.org, data.idempotency_id),
        task_queue=task_queue,
    )


async def test_silent_sms_fails_ttl_at_expiry_plus_grace(
    time_skipping_env: WorkflowEnvironment, stack: Stack
) -> None:
    data = order(f"org{uuid.uuid4().hex[:8]}", ttl=600, grace=60, sms="+4799990008")
    async with workflow_worker(time_skipping_env.client, stack) as task_queue:
        handle = await start(time_skipping_env.client, task_queue, data)
        result = await handle.result()

    assert result.status == "SMS_Failed_TTL"
    with Session(stack.engine) as session:
        row = shipments.find_by_key(session, data.org, data.idempotency_id)
        assert row is not None
        entry = session.exec(select(FeedEntry).where(FeedEntry.shipment_id == row.id)).one()
    assert (row.status, row.order_status) == ("SMS_Failed_TTL", "Order_Completed")
    assert row.last_update - row.created_at >= timedelta(seconds=660)
    assert row.last_update - row.created_at < timedelta(seconds=662)
    assert entry.status == "SMS_Failed_TTL"


async def test_silent_email_fails_ttl_and_is_findable_by_status(stack: Stack) -> None:
    org = f"org{uuid.uuid4().hex[:8]}"
    data = order(org, ttl=2, grace=1, email="silent@example.no")
    async with workflow_worker(stack.client, stack) as task_queue:
        handle = await start(stack.client, task_queue, data)
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


async def _status_is(handle, status: str) -> bool:  # type: ignore[no-untyped-def]
    manifest = await handle.query(InstantNotificationWorkflow.status, StatusRequest())
    return bool(manifest.status == status)
