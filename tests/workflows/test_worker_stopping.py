"""A worker that stops while an order's record waits for the store, past the worker's grace:
that is no cancel of the order (which would end it at once as if its TTL had passed). The
record lands, and the order ends as its report said."""

import asyncio
import uuid
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from domain.orders import NotificationResult
from tests.support.bodies import new_org
from tests.support.mocked_activities import MockedActivities, accepted
from tests.support.workflows import mocked_worker, notification_input, place, report
from workflows.instant_notification import InstantNotificationWorkflow

GRACE = timedelta(seconds=0.5)  # the workers' grace when stopping


async def test_a_worker_stopping_mid_record_leaves_the_order_to_the_next(
    temporal_env: WorkflowEnvironment,
) -> None:
    client, task_queue = temporal_env.client, f"stopping-{uuid.uuid4().hex[:8]}"
    data = notification_input(new_org(), sms="+4791234567", ttl=600)
    stopping = MockedActivities(handovers=[accepted()])
    async with mocked_worker(client, stopping, task_queue, graceful_shutdown_timeout=GRACE):
        _, handle = await place(client, task_queue, data)
        stopping.hold_records = True
        delivered = report(data, "DELIVRD", "SMS_Delivered")
        await handle.signal(InstantNotificationWorkflow.report, delivered)
        await stopping.recording.wait()
        # The store answers again after the worker's grace has run out.
        asyncio.get_running_loop().call_later(3.0, stopping.release)
    # Stopped, past its grace, while the record waited for the store.
    next_one = MockedActivities(handovers=[accepted()])
    async with mocked_worker(client, next_one, task_queue, graceful_shutdown_timeout=GRACE):
        result = await handle.result()

    assert result == NotificationResult(shipment_id=result.shipment_id, status="SMS_Delivered")
    # Recorded once, by whichever worker: the first one's record was not cut off as a cancel.
    kinds = [kind for _, kind, _, _ in (*stopping.events(), *next_one.events())]
    assert kinds.count("report") == 1
    assert "expiry" not in kinds
