"""InstantNotificationWorkflow's own decisions, in milliseconds: its activities are mocked (the
Temporal samples' way), the server is real. Updates run on the dev server; the time-skipping
server (which does not run updates) takes the TTL timer."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from temporalio import activity
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities.failures import handover_error
from activities.handover import HandoverInput
from activities.records import DiscardInput, TransitionInput
from domain.failures import FailureKind, HandoverFailure
from domain.ids import client_reference
from domain.manifest import StatusRequest
from domain.orders import REPEAT_ANSWERED, HandoverAnswer, HandoverRequest, NotificationInput
from domain.reports import DeliveryReport
from domain.webhooks import (
    DeliveryRequest,
    EventResult,
    WebhookEvent,
    retry_workflow_id,
    webhook_task_queue,
)
from tests.support.bodies import new_org
from tests.support.history import attributes_of, history_so_far
from tests.support.mocked_activities import MockedActivities, accepted, refused
from tests.support.polling import eventually
from tests.support.workflows import (
    Handle,
    handle_of,
    id_of,
    mocked_worker,
    notification_input,
    place,
    report,
    start_notification,
)
from workflows import search_attributes
from workflows.instant_notification import InstantNotificationWorkflow

PHONE = "+4791234567"


@pytest.fixture
def client(temporal_env: WorkflowEnvironment) -> Client:
    """The dev server's client: it runs updates, which the time-skipping server does not."""
    return temporal_env.client


@pytest.fixture
def data() -> NotificationInput:
    """An SMS order of a tenant of its own."""
    return notification_input(new_org(), sms=PHONE)


@asynccontextmanager
async def placed(
    client: Client, data: NotificationInput, mocks: MockedActivities
) -> AsyncIterator[tuple[HandoverAnswer, Handle]]:
    """The order placed with a worker of the mocked activities running."""
    async with mocked_worker(client, mocks) as task_queue:
        yield await place(client, task_queue, data)


@asynccontextmanager
async def cancelled_in_the_handover(
    client: Client, data: NotificationInput, mocks: MockedActivities
) -> AsyncIterator[tuple[WorkflowUpdateFailedError, Handle]]:
    """The order placed, and cancelled while its handover runs: the caller's error, and the
    run, its worker still running."""
    async with mocked_worker(client, mocks) as task_queue:
        placing = asyncio.create_task(place(client, task_queue, data))
        await mocks.handing_over.wait()
        handle = handle_of(client, data)
        await handle.cancel()
        with pytest.raises(WorkflowUpdateFailedError) as update:
            await placing
        yield update.value, handle


async def deliver(handle: Handle, *reports: DeliveryReport) -> None:
    for each in reports:
        await handle.signal(InstantNotificationWorkflow.report, each)


async def status_of(handle: Handle) -> tuple[str, str]:
    manifest = await handle.query(InstantNotificationWorkflow.status, StatusRequest())
    return manifest.status, manifest.order_status


def assert_handover_input(
    sent: HandoverInput, data: NotificationInput, answer: HandoverAnswer
) -> None:
    """The handover carries the order's row and message, under the workflow's reference."""
    assert sent.reference == client_reference(id_of(data))
    assert (sent.sms, sent.email, sent.ttl_seconds, sent.record_as) == (data.sms, None, 300, 1)
    assert sent.shipment is not None
    row = sent.shipment
    assert (row.shipment_id, row.order_id) == (answer.shipment_id, answer.notification_order_id)
    assert (row.org, row.idempotency_id, row.workflow_id) == (
        data.org,
        data.idempotency_id,
        id_of(data),
    )
    assert (row.status, row.order_status, row.destination) == (
        "SMS_Sending",
        "Order_Processed",
        PHONE,
    )
    assert row.expires_at - row.created_at == timedelta(seconds=300)
    assert sent.deadline - row.created_at == timedelta(seconds=data.timing.handover_seconds)


async def test_accepted_then_delivered(client: Client) -> None:
    data = notification_input(new_org(), sms=PHONE, senders_reference="case-1")
    mocks = MockedActivities([accepted()])
    async with placed(client, data, mocks) as (answer, handle):
        waiting = await handle.query(InstantNotificationWorkflow.status, StatusRequest())
        await deliver(handle, report(data, "DELIVRD", "SMS_Delivered"))
        result = await handle.result()
        final = await status_of(handle)

    assert answer.created
    assert (answer.fingerprint, answer.senders_reference) == (data.fingerprint, "case-1")
    assert answer.notification_order_id != answer.shipment_id
    assert (waiting.shipment_id, waiting.destination, waiting.channel) == (
        answer.shipment_id,
        PHONE,
        "SMS",
    )
    assert (waiting.status, waiting.order_status) == ("SMS_Accepted", "Order_Processed")
    assert (result.shipment_id, result.status) == (answer.shipment_id, "SMS_Delivered")
    assert final == ("SMS_Delivered", "Order_Completed")
    [sent] = mocks.handover_inputs
    assert_handover_input(sent, data, answer)
    assert mocks.events() == [
        (1, "handover", "SMS_Accepted", True),
        (2, "report", "SMS_Delivered", True),
    ]
    assert mocks.transitions[0].gateway_reference == "gw-1"
    assert (mocks.transitions[1].provider_status, mocks.transitions[1].report_id) == (
        "DELIVRD",
        "DELIVRD-1",
    )
    assert mocks.discards == []


async def test_the_provider_that_took_it_is_searchable_and_in_the_history(client: Client) -> None:
    """Recorded by the handover itself, or by the workflow when the handover could not."""
    for recorded in (True, False):
        data = notification_input(new_org(), sms=PHONE)
        taken = accepted(provider="simulator2", recorded=recorded)
        mocks = MockedActivities([taken])
        async with placed(client, data, mocks) as (_answer, handle):
            described = await handle.describe()
            await deliver(handle, report(data, "DELIVRD", "SMS_Delivered"))
            await handle.result()

        assert described.typed_search_attributes.get(search_attributes.PROVIDER) == "simulator2"
        handover = [t for t in mocks.transitions if t.kind == "handover"]
        assert [t.provider for t in handover] == ([] if recorded else ["simulator2"])


async def test_a_repeat_of_the_update_is_answered_with_the_same_ids(
    client: Client, data: NotificationInput
) -> None:
    mocks = MockedActivities([accepted()])
    async with placed(client, data, mocks) as (first, handle):
        again = await handle.execute_update(
            InstantNotificationWorkflow.handover, HandoverRequest(request_id=str(uuid.uuid4()))
        )
        await deliver(handle, report(data, "DELIVRD", "SMS_Delivered"))
        await handle.result()

    assert (first.created, again.created) == (True, False)
    assert (again.shipment_id, again.notification_order_id) == (
        first.shipment_id,
        first.notification_order_id,
    )
    assert len(mocks.handover_inputs) == 1


async def test_a_repeat_of_a_decided_handover_is_answered_in_a_rejection_kept_from_history(
    client: Client, data: NotificationInput
) -> None:
    """An accepted update adds five events; thousands of repeats made the order too long to
    replay within a workflow task. A caller that reads the rejection adds none."""
    mocks = MockedActivities([accepted()])
    async with placed(client, data, mocks) as (first, handle):
        rejections = []
        for _ in range(3):
            repeat = HandoverRequest(request_id=str(uuid.uuid4()), answer_in_rejection=True)
            with pytest.raises(WorkflowUpdateFailedError) as rejected:
                await handle.execute_update(InstantNotificationWorkflow.handover, repeat)
            rejections.append(rejected.value.cause)
        old_caller = await handle.execute_update(
            InstantNotificationWorkflow.handover, HandoverRequest(request_id=str(uuid.uuid4()))
        )
        await deliver(handle, report(data, "DELIVRD", "SMS_Delivered"))
        await handle.result()
        events = [e async for e in handle.fetch_history_events()]

    expected = replace(first, created=False)
    for cause in rejections:
        assert isinstance(cause, ApplicationError)
        assert cause.type == REPEAT_ANSWERED
        assert HandoverAnswer(**cause.details[0]) == expected
    assert old_caller == expected
    accepted_updates = [
        e for e in events if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(accepted_updates) == 2  # the first caller's and the old caller's


async def test_a_cancel_while_the_row_is_dropped_lets_the_drop_land_and_fails_the_run(
    client: Client, data: NotificationInput
) -> None:
    """Nothing was sent; cancelled while the store hangs, the row must still go, and the
    callers hear that nothing was sent, not an internal error."""
    failure = HandoverFailure(FailureKind.NOT_TAKEN, "no answer")
    mocks = MockedActivities([handover_error(failure)], hold_discards=True)
    async with mocked_worker(client, mocks) as task_queue:
        placing = asyncio.create_task(place(client, task_queue, data))
        handle = handle_of(client, data)

        async def accepted() -> bool:
            # The drop still under way: the workflow task went on (a heartbeat), the
            # caller's update with it.
            events = await history_so_far(handle)
            return bool(attributes_of(events, "workflow_execution_update_accepted"))

        await eventually(accepted, within=30)
        await handle.cancel()
        mocks.release()  # the store is back
        with pytest.raises(WorkflowUpdateFailedError) as update:
            await placing
        with pytest.raises(WorkflowFailureError) as run:
            await handle.result()
        await assert_replays(handle)

    for cause in (update.value.cause, run.value.cause):
        assert isinstance(cause, ApplicationError)
        assert cause.type == FailureKind.NOT_TAKEN
    assert mocks.discards  # landed (an attempt under way at the cancel may land too)


async def test_a_refused_recipient_is_final_at_the_handover(
    client: Client, data: NotificationInput
) -> None:
    mocks = MockedActivities([refused()])
    async with placed(client, data, mocks) as (answer, handle):
        result = await handle.result()
        final = await status_of(handle)

    assert answer.created
    assert result.status == "SMS_Failed_InvalidRecipient"
    assert final == ("SMS_Failed_InvalidRecipient", "Order_Completed")
    assert mocks.events() == [(1, "handover", "SMS_Failed_InvalidRecipient", True)]
    assert mocks.discards == []


@pytest.mark.parametrize(
    "failure",
    [
        HandoverFailure(FailureKind.NOT_TAKEN, "no answer"),
        HandoverFailure(FailureKind.RATE_LIMITED, "limit", "recipient", 600),
    ],
    ids=["gateway-unavailable", "rate-limited"],
)
async def test_a_failed_handover_fails_the_update_and_the_run_and_discards_the_row(
    client: Client, data: NotificationInput, failure: HandoverFailure
) -> None:
    mocks = MockedActivities([handover_error(failure)])
    async with mocked_worker(client, mocks) as task_queue:
        with pytest.raises(WorkflowUpdateFailedError) as update:
            await place(client, task_queue, data)
        with pytest.raises(WorkflowFailureError) as run:
            await handle_of(client, data).result()

    for cause in (update.value.cause, run.value.cause):
        assert isinstance(cause, ApplicationError)
        assert cause.type == failure.kind
        assert cause.non_retryable
        assert HandoverFailure.of(cause.type, cause.details, cause.message) == failure
    [sent] = mocks.handover_inputs
    assert sent.shipment is not None
    assert mocks.discards == [DiscardInput(shipment_id=sent.shipment.shipment_id)]
    assert mocks.transitions == []


async def test_an_unconfirmed_handover_fails_the_updates_but_keeps_the_key_and_follows_the_order(
    client: Client, data: NotificationInput
) -> None:
    """The message may have left: ending the run failed would free the key for a retry to send
    it again, so the run keeps it and its row, and waits for the provider's report."""
    mocks = MockedActivities([handover_error(HandoverFailure(FailureKind.AMBIGUOUS, "silent"))])
    async with mocked_worker(client, mocks) as task_queue:
        with pytest.raises(WorkflowUpdateFailedError) as update:
            await place(client, task_queue, data)
        with pytest.raises(WorkflowUpdateFailedError) as retry:
            await place(client, task_queue, replace(data, request_id=str(uuid.uuid4())))
        handle = handle_of(client, data)
        await deliver(handle, report(data, "DELIVRD", "SMS_Delivered"))
        result = await handle.result()

    for cause in (update.value.cause, retry.value.cause):
        assert isinstance(cause, ApplicationError)
        assert cause.type == FailureKind.AMBIGUOUS
    assert result.status == "SMS_Delivered"
    assert len(mocks.handover_inputs) == 1
    assert mocks.discards == []
    assert mocks.events() == [(1, "handover", None, False), (2, "report", "SMS_Delivered", True)]
    assert mocks.transitions[0].detail == "silent"


async def test_every_repeat_of_an_unconfirmed_order_gets_an_error_of_the_same_size(
    client: Client, data: NotificationInput
) -> None:
    """One error raised again for each repeat would carry every earlier raise in its
    traceback: the answers would grow by some 600 bytes a repeat, past Temporal's limits."""
    mocks = MockedActivities([handover_error(HandoverFailure(FailureKind.AMBIGUOUS, "silent"))])
    async with mocked_worker(client, mocks) as task_queue:
        with pytest.raises(WorkflowUpdateFailedError):
            await place(client, task_queue, data)
        handle = handle_of(client, data)
        traces = []
        for _ in range(4):
            repeat = HandoverRequest(request_id=str(uuid.uuid4()), answer_in_rejection=True)
            with pytest.raises(WorkflowUpdateFailedError) as rejected:
                await handle.execute_update(InstantNotificationWorkflow.handover, repeat)
            cause = rejected.value.cause
            assert isinstance(cause, ApplicationError)
            assert cause.type == FailureKind.AMBIGUOUS
            assert cause.failure is not None
            traces.append(len(cause.failure.stack_trace))
        await handle.terminate()

    assert len(set(traces)) == 1, traces


async def test_a_cancel_during_the_handover_keeps_the_key_and_ends_with_a_final_status(
    client: Client, data: NotificationInput
) -> None:
    """The request may have left when the handover was stopped: the key stays taken, as after
    any unconfirmed handover, and the order ends at once as its expiry would end it."""
    mocks = MockedActivities([accepted()], hold=True)
    async with cancelled_in_the_handover(client, data, mocks) as (failed, handle):
        result = await handle.result()
        await assert_replays(handle)

    assert isinstance(failed.cause, ApplicationError)
    assert failed.cause.type == FailureKind.AMBIGUOUS
    assert result.status == "SMS_Failed_TTL"
    assert mocks.discards == []
    assert mocks.events() == [(1, "handover", None, False), (2, "expiry", "SMS_Failed_TTL", True)]
    assert mocks.transitions[1].detail == "cancelled before its TTL"


async def test_a_cancel_before_the_row_was_written_sends_nothing_and_frees_the_key(
    client: Client, data: NotificationInput
) -> None:
    """The handover writes the row before any send: cancelled with no row (the store slow, or
    between retries), nothing was sent, and the run fails as a handover no provider took,
    rather than record events of a row that does not exist for ever. Its caller is not kept
    waiting for the store to settle: "may have been sent" is what is known at the cancel."""
    mocks = MockedActivities([accepted()], hold=True, row_written=False)
    async with cancelled_in_the_handover(client, data, mocks) as (failed, handle):
        with pytest.raises(WorkflowFailureError) as run:
            await handle.result()
        await assert_replays(handle)

    # The caller hears at once what was certain then; the run ends as what the store showed.
    assert isinstance(failed.cause, ApplicationError)
    assert failed.cause.type == FailureKind.AMBIGUOUS
    assert isinstance(run.value.cause, ApplicationError)
    assert run.value.cause.type == FailureKind.NOT_TAKEN
    shipment = mocks.handover_inputs[0].shipment
    assert shipment is not None
    assert [d.shipment_id for d in mocks.discards] == [shipment.shipment_id]
    assert mocks.transitions == []


async def test_a_cancel_while_waiting_for_the_report_ends_with_a_final_status(
    client: Client, data: NotificationInput
) -> None:
    """Cancelled runs used to end with the row still waiting: no final status, no feed entry."""
    mocks = MockedActivities([accepted()])
    async with placed(client, data, mocks) as (_, handle):
        await handle.cancel()
        result = await handle.result()
        await assert_replays(handle)

    assert result.status == "SMS_Failed_TTL"
    assert mocks.events() == [
        (1, "handover", "SMS_Accepted", True),
        (2, "expiry", "SMS_Failed_TTL", True),
    ]
    assert mocks.transitions[1].detail == "cancelled before its TTL"


async def test_a_record_that_keeps_failing_goes_on_as_a_regular_activity(
    client: Client, data: NotificationInput
) -> None:
    """A local activity's retries run in the workflow's tasks, whose heartbeats add events: a
    store away for hours would grow the history until Temporal ended the order."""
    data = replace(data, timing=replace(data.timing, local_retry_seconds=1.0))
    mocks = MockedActivities([accepted()], failing_records=6)
    async with placed(client, data, mocks) as (_, handle):
        await deliver(handle, report(data, "DELIVRD", "SMS_Delivered"))
        result = await handle.result()
        events = [event async for event in handle.fetch_history_events()]
        await assert_replays(handle)

    assert result.status == "SMS_Delivered"
    # the handover's record, taken over
    assert scheduled_activities(events) == ["record_transition"]
    assert mocks.events() == [
        (1, "handover", "SMS_Accepted", True),
        (2, "report", "SMS_Delivered", True),
    ]


async def assert_replays(handle: Handle) -> None:
    """The run's history, as a worker that restarts (or lost it from its cache) reads it."""
    history = await handle.fetch_history()
    await Replayer(workflows=[InstantNotificationWorkflow]).replay_workflow(history)


def scheduled_activities(events: list[HistoryEvent]) -> list[str]:
    """The regular activities the run scheduled (local ones leave markers instead)."""
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]


async def test_a_handover_whose_store_hangs_goes_on_as_a_regular_activity(
    client: Client, data: NotificationInput
) -> None:
    """Its attempts time out rather than fail (a store that hangs): the run must neither fail
    nor drop the row, for the first attempt may have sent before its record hung."""
    timing = replace(data.timing, handover_seconds=0.5, attempt_seconds=0.5)
    data = replace(data, timing=replace(timing, local_retry_seconds=0.5))
    mocks = MockedActivities([accepted()], hold=True)
    async with mocked_worker(client, mocks) as task_queue:
        placing = asyncio.create_task(place(client, task_queue, data))
        handle = handle_of(client, data)

        async def taken_over() -> bool:
            return "hand_over" in scheduled_activities(await history_so_far(handle))

        await eventually(taken_over, within=30)
        mocks.release()
        answer, _ = await placing
        await assert_replays(handle)

    assert answer.created
    assert mocks.discards == []


async def test_a_cancel_while_a_record_is_retried_lets_it_land(
    client: Client, data: NotificationInput
) -> None:
    """A record must land: cancelled mid-retry, the run used to end CANCELED with the report
    unrecorded and the row waiting for good."""
    mocks = MockedActivities([accepted(recorded=True)])
    async with placed(client, data, mocks) as (_, handle):
        mocks.failing_records = 1_000
        await deliver(handle, report(data, "DELIVRD", "SMS_Delivered"))

        async def retrying() -> bool:
            return mocks.failing_records < 998

        await eventually(retrying)
        await handle.cancel()
        await asyncio.sleep(0.5)
        mocks.failing_records = 0
        result = await handle.result()
        await assert_replays(handle)

    assert result.status == "SMS_Delivered"
    # An attempt under way at the cancel may land too: the same write (the store keeps one).
    assert set(mocks.events()) == {(2, "report", "SMS_Delivered", True)}


async def test_a_cancel_while_the_webhooks_first_attempts_run_still_starts_their_retries(
    client: Client, data: NotificationInput
) -> None:
    mocks = MockedActivities([accepted(recorded=True, webhooks=True)])
    attempting, release = asyncio.Event(), asyncio.Event()
    retry = DeliveryRequest(f"d-{uuid.uuid4().hex[:8]}", 5.0, after_first_attempt=True)

    @activity.defn(name="deliver_event")
    async def deliver_event(_event: WebhookEvent) -> EventResult:
        attempting.set()
        await release.wait()
        return EventResult(outcomes=[], retries=[retry])

    async with (
        mocked_worker(client, mocks) as task_queue,
        Worker(client, task_queue=webhook_task_queue(task_queue), activities=[deliver_event]),
    ):
        _answer, handle = await place(client, task_queue, data)
        await deliver(handle, report(data, "DELIVRD", "SMS_Delivered"))
        await attempting.wait()
        await eventually(recorded(mocks))
        await handle.cancel()
        release.set()
        result = await handle.result()
        events = [e async for e in handle.fetch_history_events()]
        await assert_replays(handle)

    assert result.status == "SMS_Delivered"
    children = [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for e in events
        if e.HasField("start_child_workflow_execution_initiated_event_attributes")
    ]
    assert children == [retry_workflow_id(retry.delivery_id)]


async def test_a_retryable_handover_failure_is_tried_again(
    client: Client, data: NotificationInput
) -> None:
    data = replace(data, timing=replace(data.timing, attempt_seconds=0.5))
    busy = handover_error(HandoverFailure(FailureKind.NOT_TAKEN, "busy"), final=False)
    mocks = MockedActivities([busy, refused()])
    async with placed(client, data, mocks) as (answer, handle):
        result = await handle.result()
        # The SDK's core keeps the failed attempt's start-to-close timer running, and panics
        # when it fires after its worker has gone: the worker outlives it.
        await asyncio.sleep(data.timing.attempt_seconds)

    assert answer.created
    assert result.status == "SMS_Failed_InvalidRecipient"
    first, second = mocks.handover_inputs
    assert first == second
    assert mocks.discards == []


async def test_reports_after_the_final_status_are_kept_but_change_nothing(
    client: Client, data: NotificationInput
) -> None:
    """Signalled while the handover runs, so all of them reach the workflow before it ends."""
    mocks = MockedActivities([accepted()], hold=True)
    reports = [
        report(data, "ENROUTE", None),
        report(data, "DELIVRD", "SMS_Delivered"),
        report(data, "DELIVRD", "SMS_Delivered", number=2),
        report(data, "FAILED", "SMS_Failed"),
    ]
    async with mocked_worker(client, mocks) as task_queue:
        handle = await start_notification(client, task_queue, data)
        await mocks.handing_over.wait()
        await deliver(handle, *reports)
        mocks.release()
        result = await handle.result()
        final = await status_of(handle)

    assert result.status == "SMS_Delivered"
    assert final == ("SMS_Delivered", "Order_Completed")
    assert mocks.events() == [
        (1, "handover", "SMS_Accepted", True),
        (2, "report", None, False),
        (3, "report", "SMS_Delivered", True),
        (4, "report", "SMS_Delivered", False),
        (5, "report", "SMS_Failed", False),
    ]
    assert [t.report_id for t in mocks.transitions[1:]] == [r.report_id for r in reports]


async def test_a_report_that_outruns_the_handover_is_applied_after_it(
    client: Client, data: NotificationInput
) -> None:
    mocks = MockedActivities([accepted()], hold=True)
    async with mocked_worker(client, mocks) as task_queue:
        handle = await start_notification(client, task_queue, data)
        await mocks.handing_over.wait()
        await deliver(handle, report(data, "BARRED", "SMS_Failed_BarredReceiver"))
        mocks.release()
        result = await handle.result()

    assert result.status == "SMS_Failed_BarredReceiver"
    assert mocks.events() == [
        (1, "handover", "SMS_Accepted", True),
        (2, "report", "SMS_Failed_BarredReceiver", True),
    ]


def recorded(mocks: MockedActivities) -> Callable[[], Awaitable[list[TransitionInput]]]:
    async def transitions() -> list[TransitionInput]:
        return mocks.transitions

    return transitions


async def test_reports_taken_while_the_webhooks_first_attempts_run_are_recorded(
    client: Client, data: NotificationInput
) -> None:
    """The run waits for those attempts before it closes, and takes signals meanwhile."""
    mocks = MockedActivities([accepted(recorded=True, webhooks=True)])
    attempting, release = asyncio.Event(), asyncio.Event()

    @activity.defn(name="deliver_event")
    async def deliver_event(_event: WebhookEvent) -> EventResult:
        attempting.set()
        await release.wait()
        return EventResult(outcomes=[])

    async with (
        mocked_worker(client, mocks) as task_queue,
        Worker(client, task_queue=webhook_task_queue(task_queue), activities=[deliver_event]),
    ):
        _answer, handle = await place(client, task_queue, data)
        await deliver(handle, report(data, "DELIVRD", "SMS_Delivered"))
        # Scheduled by the task that recorded the final status, which then went on to wait for
        # it: the run is in that wait.
        await attempting.wait()
        await deliver(handle, report(data, "FAILED", "SMS_Failed"))
        release.set()
        result = await handle.result()

    assert result.status == "SMS_Delivered"
    assert mocks.events() == [
        (2, "report", "SMS_Delivered", True),
        (3, "report", "SMS_Failed", False),
    ]


@pytest.mark.parametrize("held_by", ["handover", "record"])
async def test_held_reports_handed_back_by_the_store_are_applied(
    client: Client, data: NotificationInput, held_by: str
) -> None:
    """Reports that arrived before the gateway reference was recorded come back with that
    record: the handover's own, or the workflow's where the handover could not record it."""
    held = [report(data, "DELIVRD", "SMS_Delivered")]
    if held_by == "handover":
        mocks = MockedActivities([accepted(recorded=True, held_reports=held)])
    else:
        mocks = MockedActivities([accepted()], held={1: held})
    async with mocked_worker(client, mocks) as task_queue:
        handle = await start_notification(client, task_queue, data)
        result = await handle.result()

    assert result.status == "SMS_Delivered"
    handover = [] if held_by == "handover" else [(1, "handover", "SMS_Accepted", True)]
    assert mocks.events() == [*handover, (2, "report", "SMS_Delivered", True)]


@pytest.mark.parametrize(
    ("recipient", "handed_over", "status"),
    [
        ({"sms": PHONE}, "SMS_Accepted", "SMS_Failed_TTL"),
        ({"email": "kari@example.no"}, "Email_Succeeded", "Email_Failed_TTL"),
    ],
    ids=["sms", "email"],
)
async def test_silence_until_expiry_plus_grace_fails_the_ttl(
    time_skipping_env: WorkflowEnvironment,
    recipient: dict[str, str],
    handed_over: str,
    status: str,
) -> None:
    client = time_skipping_env.client
    data = notification_input(new_org(), ttl=600, grace=60, **recipient)
    mocks = MockedActivities([accepted(handed_over)])
    async with mocked_worker(client, mocks) as task_queue:
        handle = await start_notification(client, task_queue, data)
        result = await handle.result()
        final = await status_of(handle)

    assert result.status == status
    assert final == (status, "Order_Completed")
    assert mocks.events() == [(1, "handover", handed_over, True), (2, "expiry", status, True)]
    row = mocks.handover_inputs[0].shipment
    assert row is not None
    waited = mocks.transitions[1].at - row.created_at
    assert timedelta(seconds=660) <= waited < timedelta(seconds=662)


async def test_an_unconfirmed_handover_without_a_report_fails_the_ttl(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    data = notification_input(new_org(), ttl=600, grace=60, sms=PHONE)
    mocks = MockedActivities([handover_error(HandoverFailure(FailureKind.AMBIGUOUS, "silent"))])
    async with mocked_worker(client, mocks) as task_queue:
        handle = await start_notification(client, task_queue, data)
        result = await handle.result()

    assert result.status == "SMS_Failed_TTL"
    assert mocks.events() == [(1, "handover", None, False), (2, "expiry", "SMS_Failed_TTL", True)]
    assert mocks.discards == []


async def test_the_ttl_counts_from_the_request_when_the_first_task_runs_late(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """An order whose first task ran long after the request (its worker stopped, say) expires
    at the request's TTL, not that long after it."""
    client = time_skipping_env.client
    base = notification_input(new_org(), ttl=600, grace=60, sms=PHONE)
    requested = await time_skipping_env.get_current_time() - timedelta(seconds=300)
    data = replace(base, timing=replace(base.timing, requested_at=requested))
    mocks = MockedActivities([accepted()])
    async with mocked_worker(client, mocks) as task_queue:
        handle = await start_notification(client, task_queue, data)
        result = await handle.result()

    assert result.status == "SMS_Failed_TTL"
    row = mocks.handover_inputs[0].shipment
    assert row is not None
    assert (row.created_at, row.expires_at) == (requested, requested + timedelta(seconds=600))
    [expiry] = [t for t in mocks.transitions if t.kind == "expiry"]
    assert timedelta(seconds=660) <= expiry.at - requested < timedelta(seconds=662)


async def test_the_timer_counts_from_the_clock_of_the_last_record(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Workflow time stands still while local activities run: a record that ends after the
    deadline leaves no time to wait, however early the workflow's clock says it is."""
    client = time_skipping_env.client
    data = notification_input(new_org(), ttl=600, grace=60, sms=PHONE)
    # Past the deadline whatever time the time-skipping server has reached.
    late = datetime.now(UTC) + timedelta(days=365)
    mocks = MockedActivities([accepted(recorded=True, recorded_at=late)])
    async with mocked_worker(client, mocks) as task_queue:
        handle = await start_notification(client, task_queue, data)
        result = await handle.result()

    assert result.status == "SMS_Failed_TTL"
    row = mocks.handover_inputs[0].shipment
    assert row is not None
    [expiry] = mocks.transitions
    assert expiry.at - row.created_at < timedelta(seconds=60)
