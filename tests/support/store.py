"""Reading the store behind the API, as a test checks what was written; holding its locks."""

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from store import order_writes, shipments
from store.feed import number_feed_entries
from store.models import DeadReport, Shipment, ShipmentEvent
from store.widths import fitted_id


def shipment_row(engine: Engine, org: str, key: str) -> Shipment | None:
    with Session(engine) as session:
        return shipments.find_by_key(session, org, key)


def history(engine: Engine, shipment_id: str) -> list[ShipmentEvent]:
    with Session(engine) as session:
        return shipments.history(session, shipment_id)


def dead_reports(engine: Engine, reference: str) -> list[DeadReport]:
    """The dead reports kept under `reference` (as the store fits a long one)."""
    with Session(engine) as session:
        query = select(DeadReport).where(DeadReport.reference == fitted_id(reference))
        return list(session.exec(query).all())


def reports_in(events: list[ShipmentEvent]) -> list[ShipmentEvent]:
    """The delivery reports among a shipment's events, applied or not, late or not."""
    return [e for e in events if e.kind in ("report", "late_report")]


def new_shipment(engine: Engine, org: str, created_at: datetime | None = None) -> str:
    """An order's row as the handover writes it (accepted, waiting for its report)."""
    created_at = created_at or datetime.now(UTC)
    shipment_id = str(uuid.uuid4())
    row = Shipment(
        id=shipment_id,
        order_id=str(uuid.uuid4()),
        org=org,
        idempotency_id=shipment_id,
        workflow_id=f"instant/{org}/{shipment_id}",
        reference=uuid.uuid4().hex,
        fingerprint="f",
        channel="SMS",
        destination="+4790000000",
        recipient_key="+4790000000",
        status="SMS_Accepted",
        order_status="Order_Processed",
        created_at=created_at,
        expires_at=created_at,
        last_update=created_at,
    )
    with Session(engine) as session:
        shipments.insert_shipment(session, row.model_dump())
        session.commit()
    return shipment_id


def final_event(shipment_id: str, number: int = 1) -> dict[str, Any]:
    """The delivered report that completes a shipment (ShipmentEvent's columns)."""
    return {
        "shipment_id": shipment_id,
        "number": number,
        "kind": "report",
        "applied": True,
        "status": "SMS_Delivered",
        "at": datetime.now(UTC),
    }


def complete(engine: Engine, shipment_id: str) -> None:
    """Record the final report and number the feed, as the record activity does."""
    order_writes.record_event(engine, final_event(shipment_id), None, None)
    number_feed_entries(engine, shipment_id)


class Holder(Protocol):
    """A database connection (sqlite3's or SQLAlchemy's) whose transaction holds a lock."""

    def rollback(self) -> None: ...

    def close(self) -> None: ...


@contextmanager
def released_after(seconds: float, holder: Holder) -> Iterator[None]:
    """Another session's lock, released after `seconds` by a thread of its own (a long
    migration, an operator's transaction left open)."""
    timer = threading.Timer(seconds, holder.rollback)
    timer.start()
    try:
        yield
    finally:
        timer.join()
        holder.close()


@contextmanager
def table_locked(
    engine: Engine, seconds: float | None = None, table: str = "shipment"
) -> Iterator[None]:
    """Another writer holds `table` (the shipments by default; on SQLite, the whole store), as a
    long transaction would: for `seconds`, or (None) until the block ends. No order's row
    reaches the store meanwhile."""
    url = engine.url
    holder: Holder
    if url.get_backend_name() == "sqlite":
        lite = sqlite3.connect(str(url.database), isolation_level=None, check_same_thread=False)
        lite.execute("BEGIN IMMEDIATE")
        holder = lite
    else:
        connection = engine.connect()
        connection.exec_driver_sql(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        holder = connection
    if seconds is not None:
        with released_after(seconds, holder):
            yield
        return
    try:
        yield
    finally:
        holder.rollback()
        holder.close()


def soon(seconds: float = 5.0) -> datetime:
    """A time by which a bounded write (`store.engine.within`) must end."""
    return datetime.now(UTC) + timedelta(seconds=seconds)
