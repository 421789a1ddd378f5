"""WebhookRetryWorkflow: one delivery sent again, with backoff, after its first attempt failed
or when a caller asks; WebhookEventWorkflow: one event to every subscription of its tenant, as
orders started before their workflow made the first attempts themselves still start it."""

import asyncio
from datetime import timedelta
from enum import IntEnum

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.webhooks import WebhookActivities
    from domain.webhooks import (
        FIRST_RETRY,
        LONGEST_RETRY,
        RETRY_WINDOW,
        DeliveryFailed,
        DeliveryFailure,
        DeliveryOutcome,
        DeliveryRequest,
        EventResult,
        WebhookEvent,
        attempt_budget,
    )

_DELIVERY_RETRY = RetryPolicy(
    initial_interval=FIRST_RETRY,
    backoff_coefficient=2.0,
    maximum_interval=LONGEST_RETRY,
    non_retryable_error_types=[
        DeliveryFailure.GONE,
        DeliveryFailure.FORBIDDEN_TARGET,
        DeliveryFailure.NO_SUBSCRIPTION,
    ],
)
# The store's writes must land: retried without end, as the order workflow's records are.
_STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)
_STORE_TIMEOUT = timedelta(seconds=30)


class Turn(IntEnum):
    """Priority keys of Temporal's matching (1 goes first, 3 is the default). A first attempt
    is the news a receiver waits for; a retry someone asked for (after mending the receiver,
    say) has them waiting too, but not ahead of anyone's news; a retry is late by design."""

    FIRST_ATTEMPT = 2
    ASKED_RETRY = 3
    RETRY = 4


def webhook_priority(turn: Turn, org: str) -> Priority:
    """A webhook attempt's place at the slots; a retry workflow's tasks and activities inherit
    it. The tenant is the fairness key: where the server has fairness on, tenants take turns
    at the slots, so one tenant's backlog never holds up another's events. Temporal refuses a
    key over 64 bytes; a tenant is at most MAX_ORG_LENGTH (64) ASCII characters."""
    return Priority(priority_key=turn.value, fairness_key=org)


@workflow.defn
class WebhookEventWorkflow:
    """Creates the event's deliveries, then delivers each with retries for at least 24 hours."""

    @workflow.run
    async def run(self, event: WebhookEvent) -> EventResult:
        # Local: one write to the store, without the server's round trips of an activity task.
        plan = await workflow.execute_local_activity_method(
            WebhookActivities.create_deliveries,
            event,
            start_to_close_timeout=_STORE_TIMEOUT,
            retry_policy=_STORE_RETRY,
        )
        outcomes = await asyncio.gather(
            *(deliver(DeliveryRequest(i, plan.attempt_seconds)) for i in plan.delivery_ids)
        )
        return EventResult(outcomes=list(outcomes))


@workflow.defn
class WebhookRetryWorkflow:
    """Delivers one delivery again, with the same body, `webhook-id` and retries."""

    @workflow.run
    async def run(self, request: DeliveryRequest) -> EventResult:
        if request.after_first_attempt:
            await workflow.sleep(FIRST_RETRY)
        return EventResult(outcomes=[await deliver(request)])


async def deliver(request: DeliveryRequest) -> DeliveryOutcome:
    try:
        return await workflow.execute_activity_method(
            WebhookActivities.deliver_webhook,
            request,
            start_to_close_timeout=attempt_budget(request.attempt_seconds),
            schedule_to_close_timeout=RETRY_WINDOW,
            retry_policy=_DELIVERY_RETRY,
        )
    except ActivityError as err:
        # A refusal ends it with its reason; retries that ran out keep the last attempt's error.
        cause = err.cause
        reason = cause.message if isinstance(cause, ApplicationError) else None
        return await workflow.execute_activity_method(
            WebhookActivities.fail_delivery,
            DeliveryFailed(request.delivery_id, reason),
            start_to_close_timeout=_STORE_TIMEOUT,
            retry_policy=_STORE_RETRY,
        )
