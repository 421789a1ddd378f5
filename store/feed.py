"""The status feed: one entry per completed shipment, read with an exclusive cursor."""

from dataclasses import asdict, fields
from enum import StrEnum

from sqlalchemy import bindparam, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from domain.manifest import ShipmentManifest
from store.locks import lock_until_commit
from store.models import FeedEntry

_FEED_LOCK = 0x6E6F7469  # any constant shared by all writers of the feed
_FEED = FeedEntry.__table__  # type: ignore[attr-defined]
_WRITTEN = sa_select(_FEED.c.seq).where(_FEED.c.shipment_id == bindparam("sid"))
_APPEND = insert(_FEED).returning(_FEED.c.seq)


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
    return int(seq)


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
