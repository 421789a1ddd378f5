"""The worker's writes of an order, its row and each event of its history, each one
transaction: one call of a server-side function on PostgreSQL (migrations 0010 and 0011), where
the statements one by one would cost a round trip each; statement by statement on SQLite, which
has no round trips."""

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any, NamedTuple

from psycopg import errors
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from domain.statuses import is_final, order_status_of
from store import limits as rate_limits
from store import shipments
from store import webhooks as webhook_store
from store.engine import autocommitted, seconds_until, within
from store.feed import COMPLETIONS_CHANNEL
from store.limits import Limit, Refusal
from store.widths import fitted_event, fitted_id

_INSERT = text(
    "SELECT * FROM shipment_inserted(CAST(:row AS jsonb), CAST(:limits AS jsonb), :space, :key,"
    " :within_ms)"
)
_RECORD = text(
    "SELECT * FROM event_recorded(CAST(:event AS jsonb), :gateway, :order_status, :final, :org,"
    " :channel)"
)
_RATE_LIMITED = "NL429"  # raised by shipment_inserted


class Inserted(NamedTuple):
    """`inserted`: the row is new. Otherwise it was there (a retry's own row: the handover
    takes it over and reads its provider then), or `refusal` says which window it would have
    taken over its limit, and nothing was written."""

    inserted: bool
    refusal: Refusal | None = None


class Recorded(NamedTuple):
    """`recorded`: the event is new. `webhooks`: for an applied status with a tenant, whether
    the tenant has an active webhook subscription."""

    recorded: bool
    webhooks: bool


def insert_shipment(
    engine: Engine, row: Mapping[str, Any], limits: list[Limit], by: datetime
) -> Inserted:
    """A new order's row (a shipment's columns) and its first event, if the rate limits leave
    room for it; raises KeyAlreadyUsedError when another order holds its idempotency key.
    Fails, writing nothing, rather than end after `by`."""
    row = rate_limits.with_recipient_key(row)
    if engine.dialect.name == "postgresql":
        return _insert_on_server(engine, row, limits, by)
    with Session(engine) as session:
        with within(session.connection(), by):
            if not shipments.insert_shipment(session, row):
                return Inserted(False)
            refusal = rate_limits.first_refusal(session, row, limits)
        if refusal is not None:
            return Inserted(False, refusal=refusal)  # rolled back as the session closes
        session.commit()
    return Inserted(True)


def record_event(
    engine: Engine, event: Mapping[str, Any], gateway_reference: str | None, org: str | None
) -> Recorded:
    """One event of a shipment's history (ShipmentEvent's columns), applied when it says so;
    a final status also enters the feed (numbered after this commit)."""
    event = fitted_event(event)
    gateway_reference = gateway_reference and fitted_id(gateway_reference)
    status: str | None = event.get("status")
    if engine.dialect.name == "postgresql":
        arguments = {
            "event": _json(event),
            "gateway": gateway_reference,
            "order_status": order_status_of(status) if status is not None else None,
            "final": status is not None and is_final(status),
            "org": org,
            "channel": COMPLETIONS_CHANNEL,
        }
        with autocommitted(engine) as connection:
            return Recorded(*connection.execute(_RECORD, arguments).one())
    applied = bool(event["applied"]) and status is not None
    with Session(engine) as session:
        recorded = shipments.record_event(session, event, gateway_reference)
        webhooks = bool(applied and org) and webhook_store.has_active_subscription(
            session, org or ""
        )
        session.commit()
    return Recorded(recorded, webhooks)


def _insert_on_server(
    engine: Engine, row: Mapping[str, Any], limits: list[Limit], by: datetime
) -> Inserted:
    space, key = rate_limits.tenant_lock(row["org"])
    arguments = {
        "row": _json(row),
        "limits": json.dumps([asdict(limit) for limit in limits]),
        "space": space,
        "key": key,
    }
    try:
        with autocommitted(engine) as connection:
            # Counted from now, the connection in hand: the server counts from the statement.
            arguments["within_ms"] = int(seconds_until(by) * 1000)
            found = connection.execute(_INSERT, arguments).first()
    except DBAPIError as failed:
        refused = failed.orig
        if not isinstance(refused, errors.Error) or refused.sqlstate != _RATE_LIMITED:
            raise
        scope = refused.diag.message_detail or ""
        return Inserted(False, refusal=Refusal(scope, float(refused.diag.message_hint or 0)))
    # No row names the key when another unique column conflicted: a key taken all the same.
    # The function's third column, the provider, is read by the handover's takeover instead.
    inserted, holder, _provider = found or (False, None, None)
    if holder != row["id"]:
        raise shipments.KeyAlreadyUsedError(holder)
    return Inserted(inserted)


def _json(columns: Mapping[str, Any]) -> str:
    return json.dumps(columns, default=datetime.isoformat)
