"""Cost as the store grows: the reads and writes of every order and report, at a thousand and at
a million shipments on PostgreSQL (loaded directly, with their history, feed entries and webhook
receipts), the query plans they ran with, and the feed writer's rate of completions."""

import json
import multiprocessing
import random
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from bench.load import percentile
from bench.targets import turns
from core.config import Settings
from devstack.postgres import scratch_postgres_database
from domain.orders import Channel
from domain.recipients import recipient_key
from domain.reports import MatchKey
from domain.statuses import ShipmentStatus
from store import limits, order_writes, reports, shipments
from store.engine import autocommitted, create_db_engine
from store.feed import FeedOrder, number_feed_entries, read_feed
from store.migrate import migrate_database
from store.models import Shipment
from worker import rate_limits

TENANTS = 100
PROBED = "scale0"  # the tenant every probe reads as
# A tenant whose rate-limit windows hold one order less than each limit, at both sizes: the
# check walks a full window (the service's defaults), where PROBED's windows are empty.
BUSY, BUSY_RECIPIENT = "busy", "+4790000000"
# A feed page as full at the smallest size (10 entries a tenant) as at the largest, so the two
# compare the same work.
PAGE = 10
HISTORY_DAYS = 90  # how far back the loaded shipments go: the default retention
LIMITS = rate_limits(Settings())  # the service's, as the worker checks them
# Tables the probes must reach through an index, whatever their size.
LARGE_TABLES = ("shipment", "shipment_event", "feed_entry", "webhook_receipt")


@dataclass(frozen=True)
class Probe:
    """One read or write of the order or report path, called as the service calls it."""

    name: str
    run: Callable[[Session], object]


def run(
    server_url: str, sizes: tuple[int, ...], probes_per_size: int = 300, rounds: int = 6
) -> dict[str, Any]:
    """A scratch database for each of `sizes`, loaded, its busy tenant's windows filled, and
    vacuumed; the probes measured on them in turn; then the feed writer on the largest."""
    with ExitStack() as databases:
        engines: dict[int, Engine] = {}
        busy_until = datetime.now(UTC)  # the same full windows at every size
        for size in sizes:
            url = databases.enter_context(scratch_postgres_database(server_url))
            migrate_database(url)
            engines[size] = create_db_engine(url)
            databases.callback(engines[size].dispose)
            load(engines[size], 0, size)
            fill_windows(engines[size], busy_until)
        results: dict[str, Any] = {"sizes": measure(engines, probes_per_size, rounds, busy_until)}
        results["ratios"] = _ratios(results["sizes"], sizes)
        largest = engines[sizes[-1]]
        # The numbering alone first: after the run without numbering, its first call would
        # number that run's 8 000 entries, and the next ones walk their dead index entries.
        results["feed_numbering_alone"] = numbering_rate(largest, 2000)
        results["feed_writer"] = feed_writer_rate(largest, 8000)
        results["feed_writer_without_numbering"] = feed_writer_rate(largest, 8000, numbered=False)
    return results


def _vacuum(engine: Engine) -> None:
    """The store as autovacuum keeps it in service: a table just loaded by COPY has neither its
    statistics nor its visibility map, and autovacuum would make them while the probes run."""
    with autocommitted(engine) as connection:  # VACUUM cannot run inside a transaction
        connection.execute(text("VACUUM (ANALYZE)"))


def load(
    engine: Engine, start: int, count: int, ending: datetime | None = None, days: int = HISTORY_DAYS
) -> None:
    """`count` completed shipments with three events each, a feed entry and a webhook receipt,
    spread over the `days` before `ending` (now) across TENANTS tenants. On PostgreSQL COPY
    keeps a million quick, and a vacuum after it leaves the store as in service; SQLite takes
    them in one transaction."""
    with engine.connect() as connection:
        numbered = connection.execute(text("SELECT coalesce(max(seq), 0) FROM feed_entry"))
        base = int(numbered.scalar_one())
    rows = list(_rows(start, count, ending or datetime.now(UTC), days, base))
    tables = [
        ("shipment", _SHIPMENT_COLUMNS, [r.shipment for r in rows]),
        ("shipment_event", _EVENT_COLUMNS, [e for r in rows for e in r.events]),
        ("feed_entry", _FEED_COLUMNS, [r.feed for r in rows]),
        ("webhook_receipt", ("webhook_id", "received_at"), [r.receipt for r in rows]),
    ]
    if engine.dialect.name != "postgresql":
        with engine.begin() as connection:
            for table, columns, values in tables:
                statement = SQLModel.metadata.tables[table].insert()
                connection.execute(statement, [dict(zip(columns, v, strict=True)) for v in values])
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        for table, columns, values in tables:
            _copy(cursor, table, columns, iter(values))
        raw.commit()
    finally:
        raw.close()
    _vacuum(engine)


@dataclass(frozen=True)
class _Rows:
    shipment: tuple[Any, ...]
    events: tuple[tuple[Any, ...], ...]
    feed: tuple[Any, ...]
    receipt: tuple[Any, ...]


_SHIPMENT_COLUMNS = (
    "id",
    "order_id",
    "org",
    "idempotency_id",
    "workflow_id",
    "reference",
    "fingerprint",
    "channel",
    "destination",
    "recipient_key",
    "senders_reference",
    "status",
    "order_status",
    "gateway_reference",
    "created_at",
    "expires_at",
    "last_update",
)
_EVENT_COLUMNS = ("shipment_id", "number", "kind", "status", "applied", "provider", "at")
_FEED_COLUMNS = (
    "seq",
    "shipment_id",
    "org",
    "senders_reference",
    "order_status",
    "channel",
    "destination",
    "status",
    "last_update",
)


def _rows(start: int, count: int, now: datetime, days: int, base: int) -> Iterator[_Rows]:
    span = timedelta(days=days).total_seconds()
    # Oldest first, so the feed's sequence follows time as it does in service.
    for n in range(start, start + count):
        org = f"scale{n % TENANTS}"
        created = now - timedelta(seconds=span * (1 - (n + 1) / (start + count + 1)))
        sid, key = str(uuid.uuid4()), uuid.uuid4().hex
        phone = f"+479{random.randint(0, 8_999_999):07d}"
        delivered = created + timedelta(seconds=2)
        status = ShipmentStatus.SMS_DELIVERED
        yield _Rows(
            shipment=(
                sid,
                str(uuid.uuid4()),
                org,
                key,
                f"instant/{org}/{key}",
                uuid.uuid4().hex[:26],
                "f" * 64,
                "SMS",
                phone,
                phone,  # its recipient key: written as E.164 already
                None,
                status,
                "Order_Completed",
                f"gw-{sid}",
                created,
                created + timedelta(seconds=300),
                delivered,
            ),
            events=(
                (sid, 0, "order", "SMS_Sending", True, None, created),
                (sid, 1, "handover", "SMS_Accepted", True, None, created),
                (sid, 2, "report", status, True, "simulator", delivered),
            ),
            feed=(
                base + n - start + 1,
                sid,
                org,
                None,
                "Order_Completed",
                "SMS",
                phone,
                status,
                delivered,
            ),
            receipt=(f"msg_{sid}", delivered),
        )


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: Iterator[Any]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def fill_windows(engine: Engine, until: datetime) -> None:
    """BUSY's windows one order short of each limit before `until`: the recipient's and, the
    rest to other recipients, the tenant's. Vacuumed again, so the planner knows the tenant."""
    recipient, tenant = LIMITS
    window = timedelta(seconds=tenant.window_seconds)
    count = tenant.count - 1
    rows = [
        order_row(
            BUSY,
            BUSY_RECIPIENT if n < recipient.count - 1 else f"+4791{n:06d}",
            at=until - window * (n + 1) / (count + 1),
        )
        for n in range(count)
    ]
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()
    _vacuum(engine)


def measure(
    engines: dict[int, Engine], count: int, rounds: int, busy_until: datetime
) -> dict[str, Any]:
    """Median and p90 of each probe at each size over `count` calls, and the indexes its plan
    uses. The sizes take `rounds` turns (see `turns`): a call's cost here moves by up to twice
    over minutes, which would otherwise fall on one size and not the other."""
    probes = {size: probes_of(engine, busy_until) for size, engine in engines.items()}
    timings: dict[int, dict[str, list[float]]] = {size: defaultdict(list) for size in engines}
    for size in turns(list(engines), rounds):
        _time_probes(engines[size], probes[size], count // rounds, timings[size])
    return {str(size): _figures(engines[size], probes[size], timings[size]) for size in engines}


def _time_probes(
    engine: Engine, probes: list[Probe], count: int, timings: dict[str, list[float]]
) -> None:
    with Session(engine) as session:
        for probe in probes:
            for _ in range(max(count // 5, 1)):  # statement caches and the buffer pool warmed
                probe.run(session)
                session.rollback()
            for _ in range(count):
                began = time.perf_counter()
                probe.run(session)
                timings[probe.name].append((time.perf_counter() - began) * 1e6)
                session.rollback()


def _figures(
    engine: Engine, probes: list[Probe], timings: dict[str, list[float]]
) -> dict[str, Any]:
    with Session(engine) as session:
        return {
            probe.name: {
                "p50_us": round(statistics.median(timings[probe.name])),
                "p90_us": round(percentile(timings[probe.name], 0.9)),
                **plan_of(session, probe),
            }
            for probe in probes
        }


def probes_of(engine: Engine, busy_until: datetime) -> list[Probe]:
    """The tenant's oldest and newest shipments, and a recipient with history, as the probes
    see them; each probe picks at random among a sample so caches do not flatter it. The busy
    tenant's order comes at the end of its full windows."""
    with Session(engine) as session:
        sample = list(
            session.execute(
                text(
                    "SELECT id, reference, gateway_reference, destination FROM shipment "
                    "WHERE org = :org ORDER BY random() LIMIT 200"
                ),
                {"org": PROBED},
            )
        )
        first, last = session.execute(
            text("SELECT min(seq), max(seq) FROM feed_entry WHERE org = :org"), {"org": PROBED}
        ).one()
    pick = random.Random(7).choice
    newest = max(last - PAGE // 2, 0)

    def new_order() -> Shipment:
        return order_row(PROBED, pick(sample).destination)

    return [
        Probe("get_shipment", lambda s: shipments.find_for_tenant(s, PROBED, pick(sample).id)),
        Probe(
            "feed_page_oldest_cursor",
            lambda s: read_feed(s, PROBED, first - 1, PAGE, FeedOrder.ASC),
        ),
        Probe(
            "feed_page_newest_cursor",
            lambda s: read_feed(s, PROBED, newest, PAGE, FeedOrder.ASC),
        ),
        Probe(
            "feed_page_desc_from_newest", lambda s: read_feed(s, PROBED, 0, PAGE, FeedOrder.DESC)
        ),
        Probe(
            "rate_limit_check", lambda s: limits.first_refusal(s, new_order().model_dump(), LIMITS)
        ),
        Probe(
            "rate_limit_check_full_windows",
            lambda s: limits.first_refusal(
                s, order_row(BUSY, BUSY_RECIPIENT, at=busy_until).model_dump(), LIMITS
            ),
        ),
        Probe(
            "report_match_by_reference",
            lambda s: shipments.workflow_of(
                s.connection(), pick(sample).reference, MatchKey.REFERENCE
            ),
        ),
        Probe(
            "report_match_by_gateway_reference",
            lambda s: shipments.workflow_of(
                s.connection(), pick(sample).gateway_reference, MatchKey.GATEWAY_REFERENCE
            ),
        ),
        Probe(
            "report_replay_check",
            lambda s: reports.claim_webhook(
                s.connection(), f"msg_{uuid.uuid4()}", datetime.now(UTC)
            ),
        ),
    ]


# auto_explain, told to send each plan to the client: the plans the statements ran with, with
# their own parameters and, once psycopg prepared them, PostgreSQL's choice of a generic plan.
_EXPLAIN_AS_RUN = (
    "LOAD 'auto_explain'",
    "SET LOCAL auto_explain.log_min_duration = 0",
    "SET LOCAL auto_explain.log_analyze = on",
    "SET LOCAL auto_explain.log_timing = off",
    "SET LOCAL auto_explain.log_format = json",
    "SET LOCAL auto_explain.log_level = notice",
    "SET LOCAL auto_explain.log_nested_statements = on",
    "SET LOCAL client_min_messages = notice",
)
# Calls before a plan is read: psycopg prepares a statement on its fifth execution, and
# PostgreSQL weighs a generic plan after five custom ones, as the timed calls had it.
_AS_TIMED = 12


def plan_of(session: Session, probe: Probe) -> dict[str, Any]:
    """The plans of the statements the probe runs, as the timed calls ran them: every large
    table must be reached by an index (never a sequential scan)."""
    for _ in range(_AS_TIMED):
        probe.run(session)
        session.rollback()
    raw = session.connection().connection.driver_connection
    plans: list[str] = []

    def notice(diagnostic: Any) -> None:
        if "plan:" in (diagnostic.message_primary or ""):
            plans.append(diagnostic.message_primary.split("plan:", 1)[1])

    for statement in _EXPLAIN_AS_RUN:
        session.execute(text(statement))
    raw.add_notice_handler(notice)  # type: ignore[union-attr]
    try:
        probe.run(session)
    finally:
        # A statement's plan is sent as its portal closes: the last one's, at the rollback.
        session.rollback()
        raw.remove_notice_handler(notice)  # type: ignore[union-attr]
    nodes = [node for plan in plans for node in _nodes(json.loads(plan)["Plan"])]
    scans = [
        f"{node['Node Type']} {node.get('Index Name') or node.get('Relation Name')}"
        for node in nodes
        if "Scan" in node["Node Type"]
    ]
    sequential = [
        node["Relation Name"]
        for node in nodes
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in LARGE_TABLES
    ]
    return {"plan": scans, "sequential_scans": sequential}


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _ratios(sizes: dict[str, Any], order: tuple[int, ...]) -> dict[str, float]:
    """Each probe's p50 at the largest size over its p50 at the smallest."""
    small, large = sizes[str(order[0])], sizes[str(order[-1])]
    return {name: round(large[name]["p50_us"] / max(small[name]["p50_us"], 1), 2) for name in small}


def order_row(
    org: str,
    destination: str,
    status: str = ShipmentStatus.SMS_SENDING,
    at: datetime | None = None,
) -> Shipment:
    """A shipment row as the handover writes it (`at`, or now), unique where the table needs
    it."""
    sid, now = str(uuid.uuid4()), at or datetime.now(UTC)
    return Shipment(
        id=sid,
        order_id=sid,
        org=org,
        idempotency_id=sid,
        workflow_id=f"instant/{org}/{sid}",
        reference=sid,
        fingerprint="f",
        channel="SMS",
        destination=destination,
        recipient_key=recipient_key(Channel.SMS, destination),
        status=status,
        order_status="Order_Processed",
        created_at=now,
        expires_at=now,
        last_update=now,
    )


def feed_writer_rate(
    engine: Engine, count: int, processes: int = 4, threads: int = 4, numbered: bool = True
) -> dict[str, float]:
    """Completions per second as record activities make them, from `processes` writers of
    `threads` threads each (a deployment runs several worker processes; one Python process alone
    is bounded by its own CPU): the transaction that records the final event, status and feed
    entry, then (unless not `numbered`: to show what the lock costs) the numbering of the feed
    under its advisory lock."""
    ids = _accepted(engine, "writer", count)
    url = engine.url.render_as_string(hide_password=False)
    shares = [(ids[n::processes], url, threads, numbered) for n in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        spans = pool.starmap(_complete_all, shares)
    elapsed = max(end for _, end in spans) - min(began for began, _ in spans)
    timed = count - processes  # each process's first completion warms it, untimed
    return {
        "completions": count,
        "processes": processes,
        "threads": threads,
        "per_second": round(timed / elapsed),
    }


def numbering_rate(engine: Engine, count: int) -> dict[str, float]:
    """The feed writer alone: completions per second its numbering can serve, from the time
    one writer without contention spends in it (one call of `feed_number`: take the lock,
    number, commit). Everything else a completion does runs in parallel across writers."""
    spent = sum(_complete(engine, sid, True) for sid in _accepted(engine, "numbered", count))
    return {"completions": count, "per_second": round(count / spent)}


def _accepted(engine: Engine, org: str, count: int) -> list[str]:
    """`count` new shipments of `org` waiting for their report; their ids."""
    rows = [order_row(org, "+4791234567", ShipmentStatus.SMS_ACCEPTED) for _ in range(count)]
    ids = [row.id for row in rows]
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()
    return ids


def _complete(engine: Engine, sid: str, numbered: bool) -> float:
    """Record the shipment's delivery as the record activity does; the seconds spent numbering."""
    delivered = {
        "shipment_id": sid,
        "number": 2,
        "kind": "report",
        "status": "SMS_Delivered",
        "applied": True,
        "at": datetime.now(UTC),
    }
    order_writes.record_event(engine, delivered, None, None)
    began = time.perf_counter()
    if numbered:
        number_feed_entries(engine, sid)
    return time.perf_counter() - began


def _complete_all(ids: list[str], url: str, threads: int, numbered: bool) -> tuple[float, float]:
    """One writer process: its shipments completed from `threads` threads; (start, end) on the
    machine's clock, so the processes' spans can be joined."""
    engine = create_db_engine(url)
    _complete(engine, ids[0], numbered)  # connections and statement caches made untimed
    began = time.time()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda sid: _complete(engine, sid, numbered), ids[1:]))
    return began, time.time()
