"""Reads and writes of webhook subscriptions and their deliveries."""

from datetime import datetime

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from domain.webhooks import DeliveryStatus
from store.limits import lock_tenant
from store.models import MAX_DETAIL, WebhookDelivery, WebhookSubscription

_SUBSCRIPTION = WebhookSubscription.__table__  # type: ignore[attr-defined]
# Run in the order path's own transactions: one indexed look-up, built once.
_ANY_ACTIVE = (
    sa_select(_SUBSCRIPTION.c.id)
    .where(_SUBSCRIPTION.c.org == bindparam("org"), _SUBSCRIPTION.c.disabled_at.is_(None))
    .limit(1)
)


def has_active_subscription(session: Session, org: str) -> bool:
    return session.connection().execute(_ANY_ACTIVE, {"org": org}).first() is not None


def add_subscription(session: Session, row: WebhookSubscription, limit: int) -> bool:
    """Add the row unless the tenant already has `limit` subscriptions (False then: the caller
    rolls back). Written before the count: on SQLite the write takes the one writer's lock, so
    two adds at once never both see room, as PostgreSQL's lock of the tenant ensures there."""
    lock_tenant(session, row.org)
    session.add(row)
    session.flush()
    count = session.exec(
        select(func.count())
        .select_from(WebhookSubscription)
        .where(WebhookSubscription.org == row.org)
    ).one()
    return count <= limit


def rotate_secret(
    session: Session, org: str, subscription_id: str, secret: str, previous_until: datetime
) -> WebhookSubscription | None:
    """Make `secret` the subscription's, the one it had its previous, in one statement: two
    rotations at once take turns, and each keeps the other's secret signing. None if the
    tenant has no such subscription (deleted meanwhile, say)."""
    rotated = session.exec(
        update(WebhookSubscription)
        .where(
            col(WebhookSubscription.id) == subscription_id,
            col(WebhookSubscription.org) == org,
        )
        .values(
            previous_secret=WebhookSubscription.secret,
            secret=secret,
            previous_expires_at=previous_until,
        )
        .returning(WebhookSubscription)
    )
    return rotated.scalars().one_or_none()


def subscriptions(session: Session, org: str) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).where(WebhookSubscription.org == org)
    return list(session.exec(query.order_by(col(WebhookSubscription.created_at))))


def active_subscriptions(session: Session, org: str) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).where(
        WebhookSubscription.org == org, col(WebhookSubscription.disabled_at).is_(None)
    )
    return list(session.exec(query.order_by(col(WebhookSubscription.created_at))))


def find_subscription(
    session: Session, org: str, subscription_id: str
) -> WebhookSubscription | None:
    row = session.get(WebhookSubscription, subscription_id)
    return row if row is not None and row.org == org else None


def add_deliveries(session: Session, rows: list[WebhookDelivery]) -> None:
    """Insert the rows not there yet: a retried activity finds its own rows and adds nothing."""
    ids = [row.id for row in rows]
    known = set(session.exec(select(WebhookDelivery.id).where(col(WebhookDelivery.id).in_(ids))))
    session.add_all(row for row in rows if row.id not in known)


def delivery_target(
    session: Session, delivery_id: str
) -> tuple[WebhookDelivery, WebhookSubscription] | None:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return None
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    return None if subscription is None else (delivery, subscription)


def record_attempt(
    session: Session,
    delivery_id: str,
    at: datetime,
    status: DeliveryStatus,
    status_code: int | None = None,
    error: str | None = None,
) -> None:
    """An attempt of a delivery still being attempted: one that outlived its activity (its
    worker cut off, a sibling's failure) must not reopen a delivery since ended, nor undo one
    delivered; a late one that delivered it says so, even after the retries gave up."""
    open_to = [DeliveryStatus.PENDING]
    if status == DeliveryStatus.SUCCEEDED:
        open_to.append(DeliveryStatus.FAILED)
    session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.id) == delivery_id, col(WebhookDelivery.status).in_(open_to))
        .values(
            attempts=WebhookDelivery.attempts + 1,
            status=status,
            last_status_code=status_code,
            last_error=error and error[:MAX_DETAIL],
            updated_at=at,
        )
    )


def finish_delivery(
    session: Session, delivery_id: str, at: datetime, status: DeliveryStatus, error: str | None
) -> None:
    """The outcome once retries are over; an attempt's own error is kept unless one is given.
    A delivery an attempt meanwhile delivered stays delivered."""
    values: dict[str, object] = {"status": status, "updated_at": at}
    if error is not None:
        values["last_error"] = error[:MAX_DETAIL]
    session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.status) != DeliveryStatus.SUCCEEDED,
        )
        .values(**values)
    )


def claim_retry(session: Session, delivery_id: str, at: datetime) -> bool:
    """Put a finished delivery back to pending; False while it is still being delivered."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.status) != DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.PENDING, updated_at=at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def disable_subscription(session: Session, subscription_id: str, at: datetime) -> None:
    session.execute(
        update(WebhookSubscription)
        .where(col(WebhookSubscription.id) == subscription_id)
        .values(disabled_at=at)
    )


def deliveries(
    session: Session,
    subscription_id: str,
    status: DeliveryStatus | None,
    limit: int,
    after: WebhookDelivery | None = None,
) -> list[WebhookDelivery]:
    """Newest first (ties by id); `after` a delivery of the list, those that follow it."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    created, ids = col(WebhookDelivery.created_at), col(WebhookDelivery.id)
    if after is not None:
        query = query.where(
            (created < after.created_at) | ((created == after.created_at) & (ids > after.id))
        )
    return list(session.exec(query.order_by(created.desc(), ids).limit(limit)))


def find_delivery(
    session: Session, subscription_id: str, delivery_id: str
) -> WebhookDelivery | None:
    row = session.get(WebhookDelivery, delivery_id)
    return row if row is not None and row.subscription_id == subscription_id else None


def failing_subscriptions(session: Session) -> int:
    """Active subscriptions with a delivery that failed, or whose last attempt failed."""
    failing = (col(WebhookDelivery.status) == DeliveryStatus.FAILED) | (
        (col(WebhookDelivery.status) == DeliveryStatus.PENDING)
        & col(WebhookDelivery.last_error).is_not(None)
    )
    query = (
        select(func.count(func.distinct(WebhookDelivery.subscription_id)))
        .join(WebhookSubscription)
        .where(failing, col(WebhookSubscription.disabled_at).is_(None))
    )
    return int(session.exec(query).one())
