"""Rate limits against SMS pumping and runaway clients, counted on the shipment rows.

The rows are the log: every order that reached the handover has one, replays of an accepted
order never add one, and an order whose handover failed has its row removed. The check runs
after the new row is inserted, inside the same transaction: SQLite lets one writer in at a time,
and on PostgreSQL a per-tenant advisory lock does the same, so concurrent orders cannot all see
room for themselves. Limits therefore hold across any number of API and worker processes.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, col, select

from store.models import Shipment

_LIMITS_NAMESPACE = 0x726C  # first key of the two-key advisory locks taken here


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int
    window_seconds: int


@dataclass(frozen=True)
class Refusal:
    scope: str
    retry_after_seconds: float


def lock_tenant(session: Session, org: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(org.encode()).digest()[:4], "big", signed=True)
        session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :key)"), {"ns": _LIMITS_NAMESPACE, "key": key}
        )


def first_refusal(session: Session, row: Shipment, limits: list[Limit]) -> Refusal | None:
    """Check after inserting `row`: refused when it made a window hold more than its limit."""
    for limit in limits:
        query = select(Shipment.created_at).where(
            Shipment.org == row.org,
            col(Shipment.created_at) > row.created_at - timedelta(seconds=limit.window_seconds),
            Shipment.id != row.id,
        )
        if limit.scope == "recipient":
            query = query.where(Shipment.destination == row.destination)
        # The limit-th most recent earlier order leaves the window first for a new one.
        oldest_counted = session.exec(
            query.order_by(col(Shipment.created_at).desc()).offset(limit.count - 1).limit(1)
        ).first()
        if oldest_counted is not None:
            return Refusal(limit.scope, _seconds_until(oldest_counted, limit, row.created_at))
    return None


def _seconds_until(oldest: datetime, limit: Limit, now: datetime) -> float:
    return max((oldest + timedelta(seconds=limit.window_seconds) - now).total_seconds(), 0.0)
