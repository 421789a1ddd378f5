"""RetentionWorkflow on the real server and store, and the Schedule that starts it."""

import uuid
from datetime import UTC, datetime, timedelta

from temporalio.api.common.v1 import Payload
from temporalio.client import ScheduleActionStartWorkflow, ScheduleIntervalSpec
from temporalio.service import RPCError

from tests.support.inprocess import workflow_worker
from tests.support.stack import Stack
from tests.support.store import complete, new_shipment, shipment_row
from worker import RETENTION_SCHEDULE_ID, schedule_retention
from workflows.retention import RetentionInput, RetentionWorkflow

# Older than any other test's rows, so the run removes only this test's.
AGE_DAYS = 9000


async def test_a_run_removes_every_old_completed_shipment_in_batches(stack: Stack) -> None:
    org = f"ret{uuid.uuid4().hex[:8]}"
    long_ago = datetime.now(UTC) - timedelta(days=AGE_DAYS + 10)
    old = [new_shipment(stack.engine, org, long_ago) for _ in range(7)]
    for shipment_id in old:
        complete(stack.engine, shipment_id)
    recent = new_shipment(stack.engine, org)
    complete(stack.engine, recent)  # the feed's newest entry, which retention keeps, is recent

    async with workflow_worker(stack.client, stack) as task_queue:
        result = await stack.client.execute_workflow(
            RetentionWorkflow.run,
            RetentionInput(days=AGE_DAYS, batch_size=3),
            id=f"retention-{uuid.uuid4()}",
            task_queue=task_queue,
        )

    assert result.removed >= 7
    assert all(shipment_row(stack.engine, org, s) is None for s in old)
    assert shipment_row(stack.engine, org, recent) is not None


async def test_the_schedule_is_made_once_and_follows_the_settings(stack: Stack) -> None:
    settings = stack.settings.model_copy(
        update={"retention_days": 30, "temporal_task_queue": f"ret-{uuid.uuid4().hex[:8]}"}
    )
    handle = stack.client.get_schedule_handle(RETENTION_SCHEDULE_ID)
    try:
        await schedule_retention(stack.client, stack.settings)
        await schedule_retention(stack.client, settings)  # a second worker, newer settings
        described = await handle.describe()
        await schedule_retention(stack.client, settings.model_copy(update={"retention_days": 0}))
        gone = None
        try:
            await handle.describe()
        except RPCError as missing:
            gone = missing
    finally:
        off = stack.settings.model_copy(update={"retention_days": 0})
        await schedule_retention(stack.client, off)

    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.task_queue == settings.temporal_task_queue
    [payload] = action.args
    assert isinstance(payload, Payload)
    # Sealed like every payload: the stack's own client opens it.
    [arguments] = await stack.client.data_converter.decode([payload], [RetentionInput])
    assert arguments == RetentionInput(days=30, batch_size=settings.retention_batch_size)
    assert described.schedule.spec.intervals == [ScheduleIntervalSpec(every=timedelta(hours=1))]
    assert gone is not None


async def test_a_paused_schedule_stays_paused_when_a_worker_starts(stack: Stack) -> None:
    settings = stack.settings.model_copy(update={"retention_days": 30})
    handle = stack.client.get_schedule_handle(RETENTION_SCHEDULE_ID)
    try:
        await schedule_retention(stack.client, settings)
        await handle.pause(note="store under load")
        await schedule_retention(stack.client, settings.model_copy(update={"retention_days": 45}))
        described = await handle.describe()
    finally:
        off = stack.settings.model_copy(update={"retention_days": 0})
        await schedule_retention(stack.client, off)

    assert (described.schedule.state.paused, described.schedule.state.note) == (
        True,
        "store under load",
    )
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    [arguments] = await stack.client.data_converter.decode(list(action.args), [RetentionInput])
    assert arguments.days == 45
