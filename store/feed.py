"""The status feed: one entry per completed shipment, read with an exclusive cursor."""

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import fields
from enum import StrEnum
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from sqlalchemy import bindparam, func, text
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from domain.manifest import ShipmentManifest
from store.engine import CONNECT_TIMEOUT_SECONDS, autocommitted
from store.inserts import InsertIgnoring
from store.models import FeedEntry

_FEED = FeedEntry.__table__  # type: ignore[attr-defined]
_ENTRY_COLUMNS = ("org", *(f.name for f in fields(ShipmentManifest)))
_LAST_NUMBER = sa_select(func.coalesce(func.max(_FEED.c.seq), 0)).scalar_subquery()
_NUMBER_OF = sa_select(_FEED.c.seq).where(_FEED.c.shipment_id == bindparam("sid"))
# PostgreSQL's numbering is a function of the schema (migration 0009).
_NUMBER_ON_SERVER = text("SELECT feed_number(:sid)")
_AFTER = (
    sa_select(_FEED.c.seq, _FEED.c.shipment_id)
    .where(_FEED.c.seq > bindparam("seq"))
    .order_by(_FEED.c.seq)
)
# PostgreSQL tells the API processes of each completion at commit (api/completions.py).
COMPLETIONS_CHANNEL = "shipment_completed"
_NOTIFY = text(f"SELECT pg_notify('{COMPLETIONS_CHANNEL}', :sid)")


# PostgreSQL numbers entries after their commit; SQLite (one writer) at insert.
_APPEND = InsertIgnoring(
    _FEED,
    _ENTRY_COLUMNS,
    _FEED.c.id,
    conflict=["shipment_id"],
    computed={"sqlite": {"seq": _LAST_NUMBER + 1}},
)


class FeedOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


def append_feed_entry(session: Session, entry: Mapping[str, Any]) -> None:
    """Write the completion snapshot (`org` and the manifest's fields); a second call for the
    same shipment changes nothing.

    On PostgreSQL it is numbered after its commit, by `number_feed_entries`. SQLite lets one
    writer in at a time, so there a number given at insert already becomes visible in order.
    """
    connection = session.connection()
    if _APPEND.run(connection, entry) and connection.dialect.name == "postgresql":
        # Delivered at the commit that makes the shipment's final status visible.
        connection.execute(_NOTIFY, {"sid": entry["shipment_id"]})


def number_feed_entries(engine: Engine, shipment_id: str) -> int | None:
    """Number every committed entry that has no number yet; return the number of
    `shipment_id`'s entry (None when it has none). Call it after the entry's commit.

    A reader following the cursor must never see N+1 before N. Numbers given at insert would
    become visible at commit, in any order; on PostgreSQL they are given only to committed
    rows, by one writer at a time under an advisory lock, and all of one batch become visible
    together. That is one server-side call in a transaction of its own (`feed_number`,
    migration 0009): the lock is held only while the server works, never over a round trip,
    and a writer whose entry another's batch numbered takes no lock at all. SQLite has one
    writer at a time, so there the number given at insert is already in order.
    """
    on_server = engine.dialect.name == "postgresql"
    with autocommitted(engine) as connection:
        query = _NUMBER_ON_SERVER if on_server else _NUMBER_OF
        number: int | None = connection.execute(query, {"sid": shipment_id}).scalar()
        return number


def completed_after(connection: Connection, seq: int) -> list[tuple[int, str]]:
    """(sequence number, shipment id) of the numbered entries after `seq`, oldest first."""
    return [(int(r.seq), r.shipment_id) for r in connection.execute(_AFTER, {"seq": seq})]


def newest_sequence_number(connection: Connection) -> int:
    newest = connection.execute(sa_select(func.max(_FEED.c.seq))).scalar()
    return int(newest or 0)


# The listening connection idles for hours between completions: a server gone without a word
# (a failover, a NAT or load balancer that forgot the idle connection) must end it within a
# minute, not at the operating system's two hours, so that it is made again.
_LISTENING = {
    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


async def completion_notices(engine: Engine) -> AsyncIterator[str]:
    """PostgreSQL only: the shipment id of every completion from now on, as it commits."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    listening = make_conninfo(url, **_LISTENING)
    async with await psycopg.AsyncConnection.connect(listening, autocommit=True) as connection:
        async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
            await connection.execute(f"LISTEN {COMPLETIONS_CHANNEL}")
        yield ""  # listening: completions from here on are not missed
        async for notice in connection.notifies():
            yield notice.payload


def snapshot_of(source: object) -> ShipmentManifest:
    """The manifest from anything with its fields by name: a feed entry, a returned row."""
    return ShipmentManifest(**{f.name: getattr(source, f.name) for f in fields(ShipmentManifest)})


def read_feed(session: Session, org: str, seq: int, size: int, order: FeedOrder) -> list[FeedEntry]:
    """Numbered entries only: an entry becomes readable once it has its place in the feed."""
    query = select(FeedEntry).where(FeedEntry.org == org)
    if order is FeedOrder.ASC:
        query = query.where(col(FeedEntry.seq) > seq).order_by(col(FeedEntry.seq).asc())
    else:
        newest_first = col(FeedEntry.seq) < seq if seq > 0 else col(FeedEntry.seq).is_not(None)
        query = query.where(newest_first)
        query = query.order_by(col(FeedEntry.seq).desc())
    return list(session.exec(query.limit(size)))
