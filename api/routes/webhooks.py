"""Webhook subscriptions: where a tenant's shipment events are pushed, signed with a secret."""

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep, SettingsDep, Tenant
from api.problems import Problem
from api.schemas.problems import problem_responses
from api.schemas.webhooks import SubscriptionIn, SubscriptionOut, SubscriptionWithSecret
from domain.webhooks import SECRET_OVERLAP
from gateways.standard_webhooks import new_secret
from store import webhooks as store
from store.models import WebhookSubscription
from webhooks.targets import TargetRefused, validate

router = APIRouter(prefix="/future/webhooks", tags=["Webhooks"])

NOT_FOUND = {404: "No such webhook subscription for this caller."}


def subscription_of(session: Session, tenant: str, subscription_id: str) -> WebhookSubscription:
    """The caller's subscription; another tenant's is as unknown as one that never existed."""
    normalized = normalized_id(subscription_id)
    row = normalized and store.find_subscription(session, tenant, normalized)
    if not row:
        raise _not_found(subscription_id)
    return row


def _not_found(subscription_id: str) -> Problem:
    return Problem(404, "Webhook subscription not found", f"No subscription {subscription_id}.")


@router.post(
    "",
    status_code=201,
    response_model_exclude_none=True,
    responses=problem_responses(400, 401, 403, 409, 413, 415),
)
async def create_subscription(
    body: SubscriptionIn, tenant: Tenant, session: SessionDep, settings: SettingsDep
) -> SubscriptionWithSecret:
    """Subscribe a URL to the caller's shipment events; the answer shows the secret once."""
    try:
        await validate(
            body.url,
            https_only=settings.environment == "production",
            allow_private=settings.webhook_allow_private_targets,
        )
    except TargetRefused as refused:
        raise Problem(
            400, "One or more validation errors occurred.", errors={"url": [str(refused)]}
        ) from refused
    row = WebhookSubscription(
        id=str(uuid.uuid4()),
        org=tenant,
        url=body.url,
        description=body.description,
        secret=new_secret(),
        created_at=datetime.now(UTC),
    )
    limit = settings.webhook_limit_per_tenant
    if not await run_in_threadpool(_add, session, row, limit):
        raise Problem(409, "Too many webhook subscriptions", f"A tenant may have at most {limit}.")
    return SubscriptionWithSecret.with_secret(row)


def normalized_id(value: str) -> str | None:
    """Ids are UUIDs; anything else names nothing (and never reaches the database)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _add(session: Session, row: WebhookSubscription, limit: int) -> bool:
    if not store.add_subscription(session, row, limit):
        session.rollback()
        return False
    session.commit()
    session.refresh(row)
    return True


@router.get("", response_model_exclude_none=True, responses=problem_responses(401, 403))
def list_subscriptions(tenant: Tenant, session: SessionDep) -> list[SubscriptionOut]:
    """The caller's subscriptions, oldest first, without their secrets."""
    return [SubscriptionOut.of(row) for row in store.subscriptions(session, tenant)]


@router.get(
    "/{subscription_id}",
    response_model_exclude_none=True,
    responses=problem_responses(401, 403, 404, described=NOT_FOUND),
)
def get_subscription(subscription_id: str, tenant: Tenant, session: SessionDep) -> SubscriptionOut:
    """One subscription of the caller's, without its secret."""
    return SubscriptionOut.of(subscription_of(session, tenant, subscription_id))


@router.delete(
    "/{subscription_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, described=NOT_FOUND),
)
def delete_subscription(subscription_id: str, tenant: Tenant, session: SessionDep) -> None:
    """Delete a subscription and its deliveries; deliveries under way stop at their next try."""
    session.delete(subscription_of(session, tenant, subscription_id))
    session.commit()


@router.post(
    "/{subscription_id}/rotate-secret",
    response_model_exclude_none=True,
    responses=problem_responses(401, 403, 404, described=NOT_FOUND),
)
def rotate_secret(
    subscription_id: str, tenant: Tenant, session: SessionDep
) -> SubscriptionWithSecret:
    """A new secret; for 24 hours the old one signs beside it, so receivers can switch over."""
    normalized = normalized_id(subscription_id)
    previous_until = datetime.now(UTC) + SECRET_OVERLAP
    row = normalized and store.rotate_secret(
        session, tenant, normalized, new_secret(), previous_until
    )
    if not row:
        raise _not_found(subscription_id)
    # Read before the commit, which would have the row read again, perhaps rotated since.
    rotated = SubscriptionWithSecret.with_secret(row)
    session.commit()
    return rotated
