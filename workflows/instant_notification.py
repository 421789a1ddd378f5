"""InstantNotificationWorkflow: one order, from the handover to its final delivery status."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    RetryState,
    WorkflowAlreadyStartedError,
)
from temporalio.exceptions import TimeoutError as ActivityTimeout
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.failures import handover_error
    from activities.handover import HandoverActivities, HandoverInput
    from activities.records import (
        DiscardInput,
        FindInput,
        FindResult,
        RecordActivities,
        ShipmentInput,
        TransitionInput,
        TransitionResult,
    )
    from activities.webhooks import WebhookActivities
    from domain.deadlines import FIRST_BACKOFF, LONGEST_BACKOFF
    from domain.failures import FailureKind, HandoverFailure
    from domain.handover import HandoverResult
    from domain.ids import client_reference
    from domain.manifest import ShipmentManifest, StatusRequest
    from domain.orders import (
        REPEAT_ANSWERED,
        HandoverAnswer,
        HandoverRequest,
        NotificationInput,
        NotificationResult,
    )
    from domain.reports import DeliveryReport
    from domain.statuses import OrderStatus, is_final, order_status_of, sending, ttl_expired
    from domain.webhooks import (
        EventResult,
        EventType,
        WebhookEvent,
        attempt_budget,
        event_workflow_id,
        retry_workflow_id,
        webhook_task_queue,
    )
    from workflows import search_attributes as sa

from workflows.webhook_event import (
    Turn,
    WebhookEventWorkflow,
    WebhookRetryWorkflow,
    webhook_priority,
)

ChildInput = TypeVar("ChildInput")

_NO_ARGUMENTS = StatusRequest()

# Post-handover records must land eventually: a status or report is never given up on.
_RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(seconds=10)
)
_RECORD_TIMEOUT = timedelta(seconds=10)
# Orders whose local activity kept failing past `Timing.local_retry_seconds` go on as a regular
# activity (`_lasting`).
_OUTLASTED = "local-retries-bounded"
# Orders whose history started a WebhookEventWorkflow for an event go on doing so on replay.
_FIRST_ATTEMPTS_HERE = "webhook-first-attempts-in-order"
# Orders whose history ended failed after an unconfirmed handover, or closed with reports
# taken during the webhooks' first attempts, replay as they ran.
_UNCONFIRMED = "unconfirmed-handover-followed"
_LATE_REPORTS = "reports-during-webhooks-recorded"
# Orders cancelled (the UI's Cancel, `temporal workflow cancel`) keep their key and end with a
# final status; before, a cancel in the handover freed the key, and one while waiting left the
# row without a final status.
_CANCELLED = "cancel-ends-as-expiry"
# Orders cancelled before the handover wrote their row (nothing can have been sent) fail as a
# handover no provider took; before, they recorded an event of a row that did not exist, again
# and again, and kept their key.
_CANCEL_BEFORE_ROW = "cancel-before-row-sent-nothing"
# Orders cancelled while their row was being dropped drop it all the same and fail; before,
# they ended CANCELED, their callers answered with an internal error, the row perhaps left.
_CANCEL_IN_DISCARD = "cancel-lets-the-discard-land"
# A write of the row under way when the handover was cancelled lands by the handover's
# deadline or never; this much more for the workers' clocks.
_ROW_SETTLED = timedelta(seconds=2)
_HANDOVER_RETRY = RetryPolicy(
    initial_interval=FIRST_BACKOFF,
    backoff_coefficient=2.0,
    maximum_interval=LONGEST_BACKOFF,
)


@workflow.defn
class InstantNotificationWorkflow:
    """Records the order, hands it over, answers the caller, then follows it to a final status."""

    @workflow.init
    def __init__(self, order: NotificationInput) -> None:
        self._order = order
        self._order_id = order.order_id or str(workflow.uuid4())
        self._shipment_id = order.shipment_id or str(workflow.uuid4())
        self._manifest = ShipmentManifest(
            shipment_id=self._shipment_id,
            senders_reference=order.senders_reference,
            order_status=OrderStatus.PROCESSED,
            channel=order.channel,
            destination=order.destination,
            status=sending(order.channel),
            last_update=workflow.now(),
        )
        self._handed_over = False
        # Why the handover did not complete; each caller gets an error of its own, for one
        # raised again and again would carry every earlier raise in its traceback.
        self._failure: HandoverFailure | None = None
        self._reports: list[DeliveryReport] = []
        self._events = 0
        self._clock = workflow.now()
        self._announcements: list[asyncio.Task[None]] = []
        self._cancelled = False

    @workflow.run
    async def run(self, order: NotificationInput) -> NotificationResult:
        # Never after this task: the API's clock may run ahead of the engine's.
        created = min(order.timing.requested_at or workflow.now(), workflow.now())
        self._publish_search_attributes()
        try:
            result = await self._hand_over(created, self._next_event())
        except (ActivityError, ApplicationError) as err:
            # A local activity's final failure can arrive unwrapped (without ActivityError).
            failure = _failure_of(err)
            if _is_cancel(err) and workflow.patched(_CANCELLED):
                # The handover was stopped mid-call: the request may have left.
                self._cancelled = True
                failure = HandoverFailure(FailureKind.AMBIGUOUS, "cancelled during the handover")
                if workflow.patched(_CANCEL_BEFORE_ROW):
                    # The callers hear at once what is certain now; the row, once no write of
                    # it can land, decides what the order does.
                    self._failure = failure
                    if not await self._row_written(created):
                        failure = HandoverFailure(FailureKind.NOT_TAKEN, "cancelled before a send")
            if failure.kind is not FailureKind.AMBIGUOUS or not workflow.patched(_UNCONFIRMED):
                await self._fail(failure)
            await self._unconfirmed(failure)
        else:
            await self._handed(result)
        await self._follow_reports(created)
        await self._finish()
        return NotificationResult(shipment_id=self._shipment_id, status=self._manifest.status)

    @workflow.update
    async def handover(self, request: HandoverRequest) -> HandoverAnswer:
        """Wait for the handover; 'created' only for the request that started the workflow."""
        await workflow.wait_condition(lambda: self._handed_over or self._failure is not None)
        if self._failure is not None:
            raise _caller_error(self._failure)
        return self._answer(created=request.request_id == self._order.request_id)

    @handover.validator
    def _answer_a_repeat(self, request: HandoverRequest) -> None:
        """A repeat of a decided handover is answered in the update's rejection, which Temporal
        keeps out of the history: an accepted update adds five events, and a caller repeating
        an order thousands of times made it too long to replay within a workflow task."""
        if not request.answer_in_rejection or request.request_id == self._order.request_id:
            return
        if self._failure is not None:
            raise _caller_error(self._failure)
        if self._handed_over:
            answer = self._answer(created=False)
            raise ApplicationError("a repeat", answer, type=REPEAT_ANSWERED, non_retryable=True)

    def _answer(self, *, created: bool) -> HandoverAnswer:
        return HandoverAnswer(
            created=created,
            notification_order_id=self._order_id,
            shipment_id=self._shipment_id,
            fingerprint=self._order.fingerprint,
            senders_reference=self._order.senders_reference,
        )

    @workflow.signal
    def report(self, report: DeliveryReport) -> None:
        # Buffered, so a report that outruns the handover is applied after it, never lost.
        self._reports.append(report)

    @workflow.query
    def status(self, _request: StatusRequest = _NO_ARGUMENTS) -> ShipmentManifest:
        """The live delivery manifest; callable without arguments from the UI and the CLI."""
        return self._manifest

    async def _hand_over(self, created: datetime, number: int) -> HandoverResult:
        order = self._order
        # Past the handover's window a retry sends nothing (its deadline has passed): one that
        # still fails (the store away) may go on as a regular activity.
        window = order.timing.handover_seconds + order.timing.local_retry_seconds
        result: HandoverResult = await self._lasting(
            HandoverActivities.hand_over,
            HandoverInput(
                reference=self._reference,
                ttl_seconds=order.timing.ttl_seconds,
                deadline=order.timing.handover_deadline(created),
                sms=order.sms,
                email=order.email,
                shipment=self._shipment(created),
                record_as=number,
            ),
            attempt=timedelta(seconds=order.timing.attempt_seconds),
            retry=_HANDOVER_RETRY,
            window=timedelta(seconds=window),
        )
        return result

    def _shipment(self, created: datetime) -> ShipmentInput:
        order = self._order
        return ShipmentInput(
            shipment_id=self._shipment_id,
            order_id=self._order_id,
            org=order.org,
            idempotency_id=order.idempotency_id,
            workflow_id=workflow.info().workflow_id,
            reference=self._reference,
            fingerprint=order.fingerprint,
            channel=order.channel,
            destination=order.destination,
            status=self._manifest.status,
            order_status=self._manifest.order_status,
            created_at=created,
            expires_at=self._expiry(created),
            senders_reference=order.senders_reference,
        )

    async def _handed(self, result: HandoverResult) -> None:
        """The provider answered: its answer is recorded, and the callers hear it."""
        self._apply_status(result.status, result.at, result.provider)
        if result.recorded:
            self._absorb(result.recorded_at, result.held_reports)
            webhooks, sequence_number = result.webhooks, result.sequence_number
        else:
            stored = await self._store(
                kind="handover",
                status=result.status,
                at=result.at,
                applied=True,
                gateway_reference=result.gateway_reference,
                provider=result.provider,
                detail=result.detail,
            )
            webhooks, sequence_number = stored.webhooks, stored.sequence_number
        self._handed_over = True
        if webhooks:
            # Started in the task that answers the caller, so the answer does not wait for it.
            final = is_final(result.status)
            event = EventType.COMPLETED if final else EventType.ACCEPTED
            self._announce(event, result.at, sequence_number)

    async def _fail(self, failure: HandoverFailure) -> NoReturn:
        """Nothing was handed over: drop the row so a retry with the same key starts afresh.
        A cancel does not stop the drop: a row left behind would answer that retry with the
        ids of an order never sent."""
        await self._landing(
            RecordActivities.discard_shipment,
            DiscardInput(shipment_id=self._shipment_id),
            since=_CANCEL_IN_DISCARD,
        )
        # Failing the callers only now means the run closes in the same task that answers
        # them, so a caller's retry finds it closed and starts afresh.
        self._failure = failure
        await workflow.wait_condition(workflow.all_handlers_finished)
        raise _caller_error(failure)

    async def _row_written(self, created: datetime) -> bool:
        """Whether the cancelled handover wrote the order's row, which comes before any send;
        asked once no write of it can land any more."""
        settled = self._order.timing.handover_deadline(created) + _ROW_SETTLED
        if settled > workflow.now():
            await workflow.sleep(settled - workflow.now())
        found: FindResult = await self._in_store(
            RecordActivities.find_shipment, FindInput(shipment_id=self._shipment_id)
        )
        return found.found

    async def _unconfirmed(self, failure: HandoverFailure) -> None:
        """The message may have left: the callers hear so, but the order keeps its row and its
        key, so that no retry sends it a second time, and is followed as one handed over, for
        the provider's report may yet come: by the provider's name for the message, where it
        was known before the send, its reports find the row (and the record hands over those
        held for it)."""
        self._failure = failure
        await self._store(
            kind="handover",
            status=None,
            at=workflow.now(),
            applied=False,
            detail=failure.reason,
            gateway_reference=failure.gateway_reference,
        )

    async def _follow_reports(self, created: datetime) -> None:
        deadline = self._expiry(created) + timedelta(seconds=self._order.timing.grace_seconds)
        while not is_final(self._manifest.status):
            if self._cancelled:
                # Ended now as its expiry would end it: the row gets its final status.
                await self._expire(detail="cancelled before its TTL")
                return
            remaining = (deadline - self._now()).total_seconds()
            try:
                await workflow.wait_condition(
                    lambda: bool(self._reports), timeout=max(remaining, 0.001)
                )
            except TimeoutError:
                await self._expire()
                return
            except asyncio.CancelledError:
                if not workflow.patched(_CANCELLED):
                    raise
                self._cancelled = True
                continue
            await self._apply(self._reports.pop(0))

    async def _expire(self, **details: str | None) -> None:
        await self._record(
            kind="expiry",
            status=ttl_expired(self._order.channel),
            at=workflow.now(),
            applied=True,
            **details,
        )

    async def _apply(self, report: DeliveryReport) -> None:
        # A final status never changes: later, duplicate and contradicting reports are history only.
        applied = (
            report.status is not None
            and is_final(report.status)
            and not is_final(self._manifest.status)
        )
        await self._record(
            kind="report",
            status=report.status,
            at=report.received_at,
            applied=applied,
            provider=report.provider,
            provider_status=report.provider_status,
            report_id=report.report_id,
        )

    async def _record(
        self, *, kind: str, status: str | None, at: datetime, applied: bool, **details: str | None
    ) -> None:
        self._next_event()
        if applied and status is not None:
            self._apply_status(status, at)
        stored = await self._store(kind=kind, status=status, at=at, applied=applied, **details)
        if stored.webhooks and applied and status is not None and is_final(status):
            self._announce(EventType.COMPLETED, at, stored.sequence_number)

    def _announce(self, event: EventType, at: datetime, sequence_number: int | None) -> None:
        """Push the event to the tenant's webhooks, on the webhooks' task queue and slots, so a
        slow receiver never holds this order's; retries in child workflows left running when
        this order completes."""
        data = WebhookEvent(
            org=self._order.org,
            type=event,
            manifest=self._manifest,
            occurred_at=at,
            sequence_number=sequence_number,
        )
        self._announcements.append(asyncio.create_task(self._push(data)))

    async def _push(self, event: WebhookEvent) -> None:
        """The first attempts as an activity of this workflow: through a child workflow they
        came tens of milliseconds later, behind its own workflow tasks."""
        if not workflow.patched(_FIRST_ATTEMPTS_HERE):
            child_id = event_workflow_id(self._shipment_id, event.type)
            await self._start_child(WebhookEventWorkflow.run, event, child_id)
            return
        result = await workflow.execute_activity_method(
            WebhookActivities.deliver_event,
            event,
            task_queue=self._webhook_queue,
            start_to_close_timeout=attempt_budget(self._order.timing.webhook_attempt_seconds),
            retry_policy=_RECORD_RETRY,  # its deliveries' rows must land, as a record must
            priority=webhook_priority(Turn.FIRST_ATTEMPT, event.org),
        )
        retrying = webhook_priority(Turn.RETRY, event.org)
        await asyncio.gather(
            *(
                self._start_child(
                    WebhookRetryWorkflow.run, r, retry_workflow_id(r.delivery_id), retrying
                )
                for r in result.retries
            )
        )

    async def _start_child(
        self,
        run: Callable[[Any, ChildInput], Awaitable[EventResult]],
        data: ChildInput,
        child_id: str,
        priority: Priority = Priority.default,
    ) -> None:
        # Already started means an earlier run of this code path sent it on its way.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                run,
                data,
                id=child_id,
                task_queue=self._webhook_queue,
                parent_close_policy=ParentClosePolicy.ABANDON,
                priority=priority,
            )

    async def _finish(self) -> None:
        """Record every report taken, also those that come while the webhooks' first
        attempts run; then wait for those attempts and their retries' starts: a child that
        has not started when its parent closes is never started."""
        while True:
            while self._reports:
                await self._apply(self._reports.pop(0))
            await self._through_cancel(workflow.wait_condition(workflow.all_handlers_finished))
            await self._through_cancel(asyncio.gather(*self._announcements))
            if not self._reports or not workflow.patched(_LATE_REPORTS):
                return

    async def _through_cancel(self, awaitable: Awaitable[Any]) -> None:
        """Wait for it, a cancel of the order notwithstanding: the webhooks' first attempts
        and their retries' starts must end for the tenant to hear of the final status."""
        waited = asyncio.ensure_future(awaitable)
        while True:
            try:
                await asyncio.shield(waited)
                return
            except asyncio.CancelledError:
                if not workflow.patched(_CANCELLED):
                    waited.cancel()
                    raise
                self._cancelled = True

    def _next_event(self) -> int:
        self._events += 1
        return self._events

    def _apply_status(self, status: str, at: datetime, provider: str | None = None) -> None:
        self._manifest = replace(
            self._manifest, status=status, order_status=order_status_of(status), last_update=at
        )
        updates = [sa.SHIPMENT_STATUS.value_set(status)]
        if provider is not None:
            updates.append(sa.PROVIDER.value_set(provider))
        workflow.upsert_search_attributes(updates)

    async def _store(
        self, *, kind: str, status: str | None, at: datetime, applied: bool, **details: str | None
    ) -> TransitionResult:
        """Write the current event (number `self._events`) to the store; a cancel of the order
        does not stop it (the write is idempotent, and a record must land)."""
        record = TransitionInput(
            shipment_id=self._shipment_id,
            number=self._events,
            kind=kind,
            applied=applied,
            at=at,
            status=status,
            org=self._order.org,
            **details,
        )
        result: TransitionResult = await self._landing(
            RecordActivities.record_transition, record, since=_CANCELLED
        )
        self._absorb(result.recorded_at, result.reports)
        return result

    async def _landing(self, method: Any, arg: Any, *, since: str) -> Any:
        """A step of the store's that a cancel of the order does not stop (it is idempotent,
        and must land), in runs whose history has the patch `since`."""
        while True:
            try:
                return await self._in_store(method, arg)
            except ActivityError as err:
                if not _is_cancel(err) or not workflow.patched(since):
                    raise
                self._cancelled = True

    async def _in_store(self, method: Any, arg: Any) -> Any:
        """A step of the store's: a record's timeout and retries, local for the retry window."""
        window = timedelta(seconds=self._order.timing.local_retry_seconds)
        return await self._lasting(
            method, arg, attempt=_RECORD_TIMEOUT, retry=_RECORD_RETRY, window=window
        )

    async def _lasting(
        self, method: Any, arg: Any, *, attempt: timedelta, retry: RetryPolicy, window: timedelta
    ) -> Any:
        """A local activity, for its speed; one still failing after about `window` of retries
        goes on as a regular activity, whose retries the server keeps out of the history. A
        local activity's retries run in the workflow's tasks, each heartbeat of which adds
        events; and the SDK does not end them at a schedule-to-close timeout, so the window is
        counted in attempts."""
        try:
            return await workflow.execute_local_activity_method(
                method,
                arg,
                start_to_close_timeout=attempt,
                retry_policy=replace(retry, maximum_attempts=_attempts_within(retry, window)),
            )
        except (ActivityError, ApplicationError, ActivityTimeout) as err:
            if not _gave_up(err) or not workflow.patched(_OUTLASTED):
                raise
        return await workflow.execute_activity_method(
            method, arg, start_to_close_timeout=attempt, retry_policy=retry
        )

    def _absorb(self, recorded_at: datetime | None, held: list[DeliveryReport]) -> None:
        if recorded_at is not None:
            self._clock = max(self._clock, recorded_at)
        # Reports that outran the record of the gateway reference, held by the inbox till now.
        self._reports.extend(held)

    def _now(self) -> datetime:
        """Workflow time, advanced by the clock of the last local activity of this task."""
        return max(workflow.now(), self._clock)

    def _publish_search_attributes(self) -> None:
        """For a start that did not carry them (`search_attributes.at_start`): the API's do."""
        if workflow.info().typed_search_attributes.get(sa.SHIPMENT_ID) is not None:
            return
        workflow.upsert_search_attributes(sa.upserts(sa.at_start(self._order, self._shipment_id)))

    @property
    def _webhook_queue(self) -> str:
        return webhook_task_queue(workflow.info().task_queue)

    @property
    def _reference(self) -> str:
        return client_reference(workflow.info().workflow_id)

    def _expiry(self, created: datetime) -> datetime:
        return created + timedelta(seconds=self._order.timing.ttl_seconds)


def _attempts_within(retry: RetryPolicy, window: timedelta) -> int:
    """How many attempts the policy's waits between them let start within `window`."""
    longest = retry.maximum_interval or window
    attempts, waited, wait = 1, timedelta(0), retry.initial_interval
    while waited + wait <= window:
        attempts, waited = attempts + 1, waited + wait
        wait = min(wait * retry.backoff_coefficient, longest)
    return attempts


def _gave_up(err: ActivityError | ApplicationError | ActivityTimeout) -> bool:
    """The local activity ran out of attempts, rather than failed for good or was cancelled.
    A last attempt that failed arrives unwrapped (only a retryable error ends that way); one
    that timed out (a store that hangs) as an ActivityError caused by the timeout when it
    happens, but unwrapped when a replay reads it from the history: both must go one way."""
    if isinstance(err, ActivityTimeout):
        return True
    if isinstance(err, ActivityError):
        return err.retry_state is RetryState.MAXIMUM_ATTEMPTS_REACHED or isinstance(
            err.cause, ActivityTimeout
        )
    return not err.non_retryable


def _is_cancel(err: ActivityError | ApplicationError) -> bool:
    return isinstance(err, ActivityError) and isinstance(err.cause, CancelledError)


def _failure_of(err: ActivityError | ApplicationError) -> HandoverFailure:
    cause = err if isinstance(err, ApplicationError) else err.cause
    if isinstance(cause, ApplicationError):
        return HandoverFailure.of(cause.type, cause.details, cause.message)
    return HandoverFailure.of(None, (), str(cause or err))


def _caller_error(failure: HandoverFailure) -> ApplicationError:
    """What the update answers every caller of an order whose handover did not complete."""
    return handover_error(
        failure, message=f"handover did not complete ({failure.kind}): {failure.reason}"
    )
