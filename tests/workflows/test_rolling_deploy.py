"""A release replaces the workers while orders wait for their delivery reports, as a rolling
deploy of the one worker fleet does: the new code picks each order up from its history. With
the change behind `workflow.patched` the order goes on to its final status and new orders take
the new path; unguarded, the new code cannot continue it. This is why one fleet and patching
are enough for a workflow that lives up to two days: docs/operations.md, "Deploying new
workflow code".
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.orders import NotificationInput, NotificationResult
from domain.reports import DeliveryReport
from tests.support.bodies import new_org
from tests.support.history import attributes_of, stored_history
from tests.support.mocked_activities import MockedActivities, accepted
from tests.support.polling import eventually
from tests.support.workflows import Handle, notification_input, place, report
from tests.workflows.changed_workflows import PatchedChangeWorkflow, UnguardedChangeWorkflow
from workflows.instant_notification import InstantNotificationWorkflow

Release = type[InstantNotificationWorkflow]


@asynccontextmanager
async def release(
    client: Client, task_queue: str, code: Release, mocks: MockedActivities
) -> AsyncIterator[None]:
    """The workers of one release of the workflow code, until they are stopped."""
    async with Worker(client, task_queue=task_queue, workflows=[code], activities=mocks.functions):
        yield


def delivered(data: NotificationInput) -> DeliveryReport:
    return report(data, "DELIVRD", "SMS_Delivered")


async def markers(handle: Handle) -> list[str]:
    return [m.marker_name for m in attributes_of(await stored_history(handle), "marker_recorded")]


async def test_a_patched_release_takes_over_orders_in_flight(
    temporal_env: WorkflowEnvironment,
) -> None:
    client, task_queue = temporal_env.client, f"deploy-{uuid.uuid4().hex[:8]}"
    mocks = MockedActivities(handovers=[accepted()])
    waiting, fresh = (notification_input(new_org(), sms="+4791234567") for _ in range(2))

    async with release(client, task_queue, InstantNotificationWorkflow, mocks):
        _, in_flight = await place(client, task_queue, waiting)
    async with release(client, task_queue, PatchedChangeWorkflow, mocks):
        await in_flight.signal(InstantNotificationWorkflow.report, delivered(waiting))
        result = await in_flight.result()
        _, after = await place(client, task_queue, fresh)
        await after.signal(InstantNotificationWorkflow.report, delivered(fresh))
        await after.result()

    assert result == NotificationResult(shipment_id=result.shipment_id, status="SMS_Delivered")
    # The order in flight kept the old path on the new code; the new order took the new one.
    assert "core_patch" not in await markers(in_flight)
    assert "core_patch" in await markers(after)


async def test_an_unguarded_release_cannot_continue_an_order_in_flight(
    temporal_env: WorkflowEnvironment,
) -> None:
    client, task_queue = temporal_env.client, f"deploy-{uuid.uuid4().hex[:8]}"
    mocks = MockedActivities(handovers=[accepted()])
    data = notification_input(new_org(), sms="+4791234567")

    async with release(client, task_queue, InstantNotificationWorkflow, mocks):
        _, in_flight = await place(client, task_queue, data)
    async with release(client, task_queue, UnguardedChangeWorkflow, mocks):
        await in_flight.signal(InstantNotificationWorkflow.report, delivered(data))

        async def failed_task() -> bool:
            events = await stored_history(in_flight)
            return any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in events)

        stuck = await eventually(failed_task)
        description = await in_flight.describe()
    await in_flight.terminate(reason="test cleanup")

    assert stuck
    assert description.status == WorkflowExecutionStatus.RUNNING
