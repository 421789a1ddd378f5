"""OrderService's answers when the engine does not answer the update: the row answers, and it
tells a caller that created the order from one that repeats it."""

import asyncio
import uuid
from dataclasses import asdict, replace
from datetime import UTC, datetime

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.records import RecordActivities, TransitionInput
from api.ordering import _repeat_answered
from devstack.scratch import scratch_connection
from domain.ids import workflow_id
from domain.orders import REPEAT_ANSWERED, HandoverAnswer
from domain.reports import DeliveryReport
from tests.support.answers import shipment_id
from tests.support.bodies import sms_order
from tests.support.inprocess import api_for
from tests.support.mocked_activities import MockedActivities, accepted
from tests.support.routes import SMS
from tests.support.stack import Stack, Tenant
from tests.support.store import soon
from workflows.instant_notification import InstantNotificationWorkflow


async def test_a_first_task_that_must_run_again_still_answers_201(
    stack: Stack, tenant: Tenant
) -> None:
    """An order whose reports outran its handover completes in its first task; a report
    signalled meanwhile makes Temporal refuse that task, and the update is answered by no
    run. The engine then refuses a second start, and the row answers: the caller created it."""
    task_queue = f"race-{uuid.uuid4().hex[:8]}"
    settings = stack.settings.model_copy(update={"temporal_task_queue": task_queue})
    order = sms_order()
    delivered = DeliveryReport(
        reference="",
        provider="simulator",
        provider_status="DELIVRD",
        received_at=datetime.now(UTC),
        status="SMS_Delivered",
        report_id="held",
    )
    mocks = MockedActivities([accepted(recorded=True, held_reports=[delivered])], hold=True)
    async with (
        api_for(settings, stack.connection) as api,
        Worker(
            stack.client,
            task_queue=task_queue,
            workflows=[InstantNotificationWorkflow],
            activities=mocks.functions,
        ),
    ):
        placing = asyncio.create_task(api.post(SMS, json=order, headers=tenant.headers))
        await mocks.handing_over.wait()
        shipment = mocks.handover_inputs[0].shipment
        assert shipment is not None
        # What the real handover writes: the row, then the provider's answer.
        records = RecordActivities(stack.engine)
        records.record_shipment(shipment, by=soon())
        records.record_transition(
            TransitionInput(
                shipment_id=shipment.shipment_id,
                number=1,
                kind="handover",
                applied=True,
                at=datetime.now(UTC),
                status="SMS_Accepted",
                org=tenant.org,
            )
        )
        handle = stack.client.get_workflow_handle(workflow_id(tenant.org, order["idempotencyId"]))
        await handle.signal(
            InstantNotificationWorkflow.report, replace(delivered, report_id="late")
        )
        mocks.release()
        response = await placing

    assert response.status_code == 201, response.text
    assert shipment_id(response) == shipment.shipment_id


def test_a_repeat_answered_by_a_newer_worker_is_read_without_its_added_fields() -> None:
    """During a rolling upgrade, a worker whose answer has a field this API does not know."""
    answer = HandoverAnswer(False, "order", "shipment", "fingerprint", "case-1")
    newer = {**asdict(answer), "provider": "simulator"}
    rejection = ApplicationError("a repeat", newer, type=REPEAT_ANSWERED, non_retryable=True)

    assert _repeat_answered(WorkflowUpdateFailedError(rejection)) == answer


async def test_while_the_engine_is_unreachable_the_row_answers_a_repeat_of_a_decided_order(
    stack: Stack, tenant: Tenant
) -> None:
    """The handover was decided before: its row answers the repeat, as the engine would. A
    new key has no row, and nothing can take it: 503."""
    order = sms_order()
    placed = await stack.api.post(SMS, json=order, headers=tenant.headers)
    assert placed.status_code == 201, placed.text

    async with api_for(stack.settings, scratch_connection()) as cut_off:
        repeated = await cut_off.post(SMS, json=order, headers=tenant.headers)
        new = await cut_off.post(SMS, json=sms_order(), headers=tenant.headers)

    assert repeated.status_code == 200, repeated.text
    assert shipment_id(repeated) == shipment_id(placed)
    assert repeated.json() == placed.json()
    assert new.status_code == 503
