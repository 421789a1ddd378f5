"""The status feed: one entry per completed shipment, read with an exclusive cursor."""

from collections.abc import AsyncIterator
from dataclasses import asdict, fields
from enum import StrEnum

import psycopg
from sqlalchemy import bindparam, func, insert, text
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from domain.manifest import ShipmentManifest
from store.locks import lock_until_commit
from store.models import FeedEntry

_FEED_LOCK = 0x6E6F7469  # any constant shared by all writers of the feed
_FEED = FeedEntry.__table__  # type: ignore[attr-defined]
_WRITTEN = sa_select(_FEED.c.seq).where(_FEED.c.shipment_id == bindparam("sid"))
_APPEND = insert(_FEED).returning(_FEED.c.seq)
_AFTER = (
    sa_select(_FEED.c.seq, _FEED.c.shipment_id)
    .where(_FEED.c.seq > bindparam("seq"))
    .order_by(_FEED.c.seq)
)
# PostgreSQL tells the API processes of each completion at commit (api/completions.py).
COMPLETIONS_CHANNEL = "shipment_completed"
_NOTIFY = text(f"SELECT pg_notify('{COMPLETIONS_CHANNEL}', :sid)")


class FeedOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


def append_feed_entry(session: Session, org: str, snapshot: ShipmentManifest) -> int:
    """Write the completion snapshot and return its sequence number; a second call for the
    same shipment changes nothing and returns the first one's.

    A reader following the cursor must never see seq N+1 before seq N. PostgreSQL hands out
    sequence values at insert time but makes rows visible at commit, in any order; holding one
    transaction-scoped advisory lock from the insert to the commit makes commit order equal
    sequence order. SQLite already allows one writer at a time, which gives the same guarantee.
    """
    connection = session.connection()
    written = connection.execute(_WRITTEN, {"sid": snapshot.shipment_id}).scalar()
    if written is not None:
        return int(written)
    lock_until_commit(connection, _FEED_LOCK)
    seq = connection.execute(_APPEND, {"org": org, **asdict(snapshot)}).scalar_one()
    if connection.dialect.name == "postgresql":
        connection.execute(_NOTIFY, {"sid": snapshot.shipment_id})
    return int(seq)


def completed_after(connection: Connection, seq: int) -> list[tuple[int, str]]:
    """(sequence number, shipment id) of the feed entries after `seq`, oldest first."""
    return [(int(r.seq), r.shipment_id) for r in connection.execute(_AFTER, {"seq": seq})]


def newest_sequence_number(connection: Connection) -> int:
    newest = connection.execute(sa_select(func.max(_FEED.c.seq))).scalar()
    return int(newest or 0)


async def completion_notices(engine: Engine) -> AsyncIterator[str]:
    """PostgreSQL only: the shipment id of every completion from now on, as it commits."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        await connection.execute(f"LISTEN {COMPLETIONS_CHANNEL}")
        yield ""  # listening: completions from here on are not missed
        async for notice in connection.notifies():
            yield notice.payload


def sequence_number(session: Session, shipment_id: str) -> int | None:
    """The feed entry's sequence number of a completed shipment."""
    written = session.connection().execute(_WRITTEN, {"sid": shipment_id}).scalar()
    return None if written is None else int(written)


def snapshot_of(source: object) -> ShipmentManifest:
    """The manifest from anything with its fields by name: a feed entry, a returned row."""
    return ShipmentManifest(**{f.name: getattr(source, f.name) for f in fields(ShipmentManifest)})


def read_feed(session: Session, org: str, seq: int, size: int, order: FeedOrder) -> list[FeedEntry]:
    query = select(FeedEntry).where(FeedEntry.org == org)
    if order is FeedOrder.ASC:
        query = query.where(col(FeedEntry.seq) > seq).order_by(col(FeedEntry.seq).asc())
    else:
        if seq > 0:
            query = query.where(col(FeedEntry.seq) < seq)
        query = query.order_by(col(FeedEntry.seq).desc())
    return list(session.exec(query.limit(size)))
