"""The recipient limit counts one handset or mailbox however its orders wrote it, on both
databases (PostgreSQL runs the check in `shipment_inserted`); each row keeps its destination."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from domain.orders import Channel
from store import order_writes
from store.engine import autocommitted, create_db_engine
from store.limits import Limit, tenant_lock
from tests.support.bodies import new_org
from tests.support.store import shipment_row, soon

ONE_PER_RECIPIENT = [Limit("recipient", 1, 600)]


def order_row(org: str, channel: str, destination: str) -> dict[str, Any]:
    """A new order's row as the handover gives it (it names no recipient key)."""
    sid, now = str(uuid.uuid4()), datetime.now(UTC)
    return {
        "id": sid,
        "order_id": sid,
        "org": org,
        "idempotency_id": sid,
        "workflow_id": f"instant/{org}/{sid}",
        "reference": uuid.uuid4().hex,
        "fingerprint": "f",
        "channel": channel,
        "destination": destination,
        "status": "SMS_Sending" if channel == Channel.SMS else "Email_Sending",
        "order_status": "Order_Processed",
        "created_at": now,
        "expires_at": now,
        "last_update": now,
    }


def place(engine: Engine, org: str, channel: str, destination: str) -> order_writes.Inserted:
    return order_writes.insert_shipment(
        engine, order_row(org, channel, destination), ONE_PER_RECIPIENT, by=soon()
    )


def test_a_number_written_another_way_is_the_same_recipient(engine: Engine) -> None:
    org = new_org()
    first = place(engine, org, Channel.SMS, "+4791234567")

    again = [
        place(engine, org, Channel.SMS, written)
        for written in ("004791234567", "+47 912 34 567", "0047-91234567", "+47 (912) 34.567")
    ]
    others = [
        place(engine, org, Channel.SMS, "+47 912 34 568"),
        place(engine, new_org(), Channel.SMS, "0047 912 34 567"),
    ]

    assert first.inserted
    assert [(a.inserted, a.refusal and a.refusal.scope) for a in again] == [
        (False, "recipient")
    ] * 4
    assert [o.inserted for o in others] == [True, True]


def test_an_address_in_other_cases_is_the_same_recipient(engine: Engine) -> None:
    org = new_org()
    first = place(engine, org, Channel.EMAIL, "Kari.Nordmann@Example.no")

    again = place(engine, org, Channel.EMAIL, "kari.nordmann@EXAMPLE.NO")
    others = [
        place(engine, org, Channel.EMAIL, "kari.nordmann@example.se"),
        place(engine, org, Channel.EMAIL, "kari@example.no"),
    ]

    assert first.inserted
    assert again.refusal is not None
    assert again.refusal.scope == "recipient"
    assert [o.inserted for o in others] == [True, True]


def test_the_row_keeps_the_destination_as_written(engine: Engine) -> None:
    org = new_org()
    row = order_row(org, Channel.SMS, "0047 912 34 567")

    order_writes.insert_shipment(engine, row, ONE_PER_RECIPIENT, by=soon())
    stored = shipment_row(engine, org, row["idempotency_id"])

    assert stored is not None
    assert (stored.destination, stored.recipient_key) == ("0047 912 34 567", "+4791234567")


def test_a_row_of_the_previous_release_is_counted_by_recipient(postgres_url: str) -> None:
    """During a rolling upgrade, workers of the previous release call `shipment_inserted` with
    rows that have no recipient key: the function gives them theirs."""
    engine = create_db_engine(postgres_url)
    org = new_org()
    earlier = order_row(org, Channel.SMS, "0047 912 34 567")
    space, key = tenant_lock(org)
    with autocommitted(engine) as connection:
        connection.execute(
            text("SELECT * FROM shipment_inserted(CAST(:row AS jsonb), '[]', :space, :key)"),
            {"row": json.dumps(earlier, default=str), "space": space, "key": key},
        )

    later = place(engine, org, Channel.SMS, "+4791234567")
    stored = shipment_row(engine, org, earlier["idempotency_id"])
    engine.dispose()

    assert stored is not None
    assert stored.recipient_key == "+4791234567"
    assert later.refusal is not None
