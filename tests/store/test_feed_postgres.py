"""On PostgreSQL, a reader that follows the feed cursor never misses an entry.

A number given at insert would become visible at commit, and two transactions can commit in the
opposite order of their numbers. The feed numbers only committed entries, one numbering at a
time under a transaction-scoped advisory lock, so numbers become visible in order, and writers
never wait for each other's commits.
"""

import random
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from store import shipments
from store.engine import create_db_engine
from store.feed import FeedOrder, number_feed_entries, read_feed
from tests.support.store import final_event, new_shipment


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_db_engine(postgres_url)
    yield engine
    engine.dispose()


def complete(session: Session, shipment_id: str) -> None:
    shipments.record_event(session, final_event(shipment_id), None)
    session.flush()


def feed_ids(engine: Engine, org: str, after: int = 0) -> list[str]:
    with Session(engine) as session:
        return [e.shipment_id for e in read_feed(session, org, after, 500, FeedOrder.ASC)]


def finish(session: Session, shipment_id: str) -> int | None:
    """Commit a completion and number the feed, as the record activity does."""
    session.commit()
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    return number_feed_entries(engine, shipment_id)


def test_an_uncommitted_completion_holds_back_neither_writers_nor_numbers(engine: Engine) -> None:
    org = f"pg{uuid.uuid4().hex[:8]}"
    first, second = new_shipment(engine, org), new_shipment(engine, org)
    holder = Session(engine)
    complete(holder, first)

    def complete_second() -> None:
        with Session(engine) as session:
            complete(session, second)
            finish(session, second)

    writer = threading.Thread(target=complete_second)
    writer.start()
    writer.join(timeout=10)
    visible_meanwhile = feed_ids(engine, org)
    first_number = finish(holder, first)
    holder.close()

    assert not writer.is_alive()
    assert visible_meanwhile == [second]
    assert feed_ids(engine, org) == [second, first]
    with Session(engine) as session:
        [_, entry] = read_feed(session, org, 0, 10, FeedOrder.ASC)
    assert entry.seq == first_number


def test_numbering_is_idempotent(engine: Engine) -> None:
    org = f"pg{uuid.uuid4().hex[:8]}"
    shipment = new_shipment(engine, org)
    with Session(engine) as session:
        complete(session, shipment)
        number = finish(session, shipment)
        again = number_feed_entries(engine, shipment)

    assert number is not None
    assert again == number
    assert feed_ids(engine, org, after=number - 1) == [shipment]


def test_cursor_reader_sees_every_concurrent_completion(engine: Engine) -> None:
    org = f"pg{uuid.uuid4().hex[:8]}"
    pending = [new_shipment(engine, org) for _ in range(60)]
    seen: list[str] = []
    done = threading.Event()

    def writer(ids: list[str]) -> None:
        for shipment_id in ids:
            with Session(engine) as session:
                complete(session, shipment_id)
                time.sleep(random.uniform(0, 0.01))  # widen the insert-to-commit window
                finish(session, shipment_id)

    def reader() -> None:
        cursor = 0
        while True:
            # Read the flag before the page: an empty page read after the last commit ends it.
            finished = done.is_set()
            with Session(engine) as session:
                page = read_feed(session, org, cursor, 7, FeedOrder.ASC)
            seen.extend(e.shipment_id for e in page)
            if page:
                cursor = page[-1].seq or cursor
            elif finished:
                return

    writers = [threading.Thread(target=writer, args=(pending[i::6],)) for i in range(6)]
    follower = threading.Thread(target=reader)
    follower.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    follower.join(timeout=30)

    assert sorted(seen) == sorted(pending)
    assert len(seen) == len(set(seen))
