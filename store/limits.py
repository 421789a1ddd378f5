"""Rate limits against SMS pumping and runaway clients, counted on the shipment rows.

The rows are the log: every order that reached the handover has one, replays of an accepted
order never add one, and an order whose handover failed has its row removed. The check runs
after the new row is inserted, inside the same transaction: SQLite lets one writer in at a time,
and on PostgreSQL a per-tenant advisory lock does the same, so concurrent orders cannot all see
room for themselves. Limits therefore hold across any number of API and worker processes. On
PostgreSQL the order path runs the same queries inside one server-side call
(`shipment_inserted`, migrations 0010 and 0011); `first_refusal` is SQLite's.

The recipient limit counts by `recipient_key`, the handset or mailbox the destination reaches:
the same number written with `00` or separators, or an address in other cases or with a
`+tag`, is one recipient.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session

from domain.recipients import recipient_key
from store.locks import key_of, lock_until_commit
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


def tenant_lock(org: str) -> tuple[int, int]:
    """The two keys of the tenant's advisory lock."""
    return _LIMITS_NAMESPACE, key_of(org)


def with_recipient_key(row: Mapping[str, Any]) -> dict[str, Any]:
    """A new order's row (a shipment's columns) with the key the recipient limit counts by,
    derived here so that no writer of the row can give another."""
    return {**row, "recipient_key": recipient_key(row["channel"], row["destination"])}


def lock_tenant(session: Session, org: str) -> None:
    lock_until_commit(session.connection(), *tenant_lock(org))


_SHIPMENT = Shipment.__table__  # type: ignore[attr-defined]


def _oldest_counted(*scope: ColumnElement[bool]) -> Select[Any]:
    """The limit-th most recent earlier order in the window: it leaves the window first."""
    return (
        sa_select(_SHIPMENT.c.created_at)
        .where(
            _SHIPMENT.c.org == bindparam("org"),
            _SHIPMENT.c.created_at > bindparam("since"),
            _SHIPMENT.c.id != bindparam("sid"),
            *scope,
        )
        .order_by(_SHIPMENT.c.created_at.desc())
        .offset(bindparam("skip"))
        .limit(1)
    )


_QUERIES = {
    "recipient": _oldest_counted(_SHIPMENT.c.recipient_key == bindparam("recipient_key")),
    "tenant": _oldest_counted(),
}


def first_refusal(session: Session, row: Mapping[str, Any], limits: list[Limit]) -> Refusal | None:
    """Check after inserting `row` (a shipment's columns): refused when it made a window hold
    more than its limit."""
    connection = session.connection()
    created_at: datetime = row["created_at"]
    for limit in limits:
        since = created_at - timedelta(seconds=limit.window_seconds)
        oldest = connection.execute(
            _QUERIES[limit.scope],
            {
                "org": row["org"],
                "since": since,
                "sid": row["id"],
                "recipient_key": row["recipient_key"],
                "skip": limit.count - 1,
            },
        ).scalar()
        if oldest is not None:
            return Refusal(limit.scope, _seconds_until(oldest, limit, created_at))
    return None


def _seconds_until(oldest: datetime, limit: Limit, now: datetime) -> float:
    return max((oldest + timedelta(seconds=limit.window_seconds) - now).total_seconds(), 0.0)
