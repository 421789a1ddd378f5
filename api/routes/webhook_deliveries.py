"""Deliveries of one webhook subscription: what was sent, what failed, and sending one again."""

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from api.deps import SessionDep, SettingsDep, TemporalDep, Tenant
from api.problems import Problem, invalid, unavailable
from api.routes.webhooks import NOT_FOUND, normalized_id, subscription_of
from api.schemas.numbers import WholeNumber
from api.schemas.problems import problem_responses
from api.schemas.webhooks import DeliveryOut
from domain.webhooks import DeliveryRequest, DeliveryStatus, retry_workflow_id
from store import webhooks as store
from store.models import WebhookDelivery
from workflows.webhook_event import Turn, WebhookRetryWorkflow, webhook_priority

log = logging.getLogger(__name__)

router = APIRouter(prefix="/future/webhooks/{subscription_id}/deliveries", tags=["Webhooks"])

MAX_PAGE_SIZE = 500
_NOT_FOUND = {404: "No such webhook subscription or delivery for this caller."}


@router.get(
    "",
    response_model_exclude_none=True,
    responses=problem_responses(400, 401, 403, 404, described=NOT_FOUND),
)
def list_deliveries(
    subscription_id: str,
    tenant: Tenant,
    session: SessionDep,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    page_size: Annotated[int, WholeNumber, Query(alias="pageSize", ge=1, le=MAX_PAGE_SIZE)] = 100,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> list[DeliveryOut]:
    """The subscription's deliveries, newest first; `status=failed` lists those given up on;
    `after`, the last delivery of a page, reads on past it."""
    row = subscription_of(session, tenant, subscription_id)
    anchor = None
    if after is not None:
        named = normalized_id(after)
        anchor = store.find_delivery(session, row.id, named) if named else None
        if anchor is None:
            raise invalid({"after": [f"'{after}' is no delivery of this subscription."]})
    listed = store.deliveries(session, row.id, status, page_size, anchor)
    return [DeliveryOut.of(d) for d in listed]


@router.post(
    "/{delivery_id}/retry",
    status_code=202,
    response_model_exclude_none=True,
    responses=problem_responses(401, 403, 404, 409, 503, described=_NOT_FOUND),
)
async def retry_delivery(
    subscription_id: str,
    delivery_id: str,
    tenant: Tenant,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> DeliveryOut:
    """Send a finished delivery again: same body, same `webhook-id`, with retries as before."""
    delivery, previous = await run_in_threadpool(
        _claim, session, tenant, subscription_id, delivery_id
    )
    try:
        await temporal.start_workflow(
            WebhookRetryWorkflow.run,
            DeliveryRequest(delivery.id, settings.webhook_timeout_seconds),
            id=retry_workflow_id(delivery.id),
            task_queue=settings.webhook_task_queue,
            # The claim passed, so a run under this ID has finished its delivery and is only
            # closing: joining it would leave this retry pending for good.
            id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            priority=webhook_priority(Turn.ASKED_RETRY, tenant),
        )
    except (RPCError, RuntimeError) as exc:
        log.warning("Temporal did not take the retry: %s", type(exc).__name__)
        await run_in_threadpool(_release, session, delivery.id, previous)
        raise unavailable("The retry could not reach the workflow engine.") from exc
    return DeliveryOut.of(delivery)


def _claim(
    session: Session, tenant: str, subscription_id: str, delivery_id: str
) -> tuple[WebhookDelivery, DeliveryStatus]:
    """The delivery, back to pending, and the status it had."""
    subscription = subscription_of(session, tenant, subscription_id)
    normalized = normalized_id(delivery_id)
    delivery = normalized and store.find_delivery(session, subscription.id, normalized)
    if not delivery:
        raise Problem(404, "Webhook delivery not found", f"No delivery {delivery_id}.")
    if subscription.disabled_at is not None:
        raise Problem(409, "Webhook subscription disabled", "Its receiver answered 410 Gone.")
    previous = DeliveryStatus(delivery.status)
    if not store.claim_retry(session, delivery.id, datetime.now(UTC)):
        raise Problem(409, "Delivery under way", "This delivery is still being attempted.")
    session.commit()
    session.refresh(delivery)
    return delivery, previous


def _release(session: Session, delivery_id: str, previous: DeliveryStatus) -> None:
    """The retry did not start: the delivery keeps the status it had."""
    store.finish_delivery(session, delivery_id, datetime.now(UTC), previous, None)
    session.commit()
