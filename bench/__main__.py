"""`make bench`: start a stack of its own beside the engine floor (bench/engine.py) on the same
Temporal server, measure both the same way, and write bench/results/<date>.json and .png."""

import argparse
import asyncio
import json
import logging
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import (
    data_scale,
    engine,
    failover,
    front_door,
    http_cost,
    machine,
    neighbours,
    production_store,
    ratios,
    retention,
    scenarios,
    smtp_handover,
    summary,
    targets,
    waterfall,
)
from bench.plot import plot
from bench.stack import bench_stack, stack_pids
from core.logs import configure_logging
from devstack.processes import ProcessGroup, free_port

log = logging.getLogger("bench")
RESULTS = Path(__file__).parent / "results"
KNEE_RATES = [5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 50.0, 60.0, 80.0]
# The store's sizes for the data-scale table (--quick: smaller, for a smoke run).
SIZES, QUICK_SIZES = (1_000, 1_000_000), (1_000, 20_000)


async def compare(service: targets.Target, floor: targets.Target, quick: bool) -> dict[str, Any]:
    """The service against the engine floor: one at a time, at 5 req/s, the knee and CPU per
    order by process, and the figures the service is judged by (bench/ratios.py). Each measure
    is taken for both in turn (targets.in_turn), so that the machine's drift falls on both
    alike."""
    steady = 10.0 if quick else 30.0
    both = (service, floor)
    for target in both:
        await targets.at_rate(target, 10.0, 3.0 if quick else 10.0)  # warm-up
        await target.quiet()
    alone = await targets.one_at_a_time_in_turn(both, 20 if quick else 100)
    legs = {t.name: await waterfall.median_legs(t.client, alone[t.name]) for t in both if t.client}
    at_5 = await targets.at_rate_in_turn(both, 5.0, steady)
    knees = await targets.knees(both, KNEE_RATES, 5.0 if quick else 10.0)
    for name, (best, _) in knees.items():
        log.warning("%s knee: %g req/s", name, best)
    results: dict[str, Any] = {
        "one_at_a_time": {name: targets.answer_times(orders) for name, orders in alone.items()},
        "one_at_a_time_legs_p50_ms": legs,
        "at_5_rps": {name: summary.as_dict() for name, (summary, _) in at_5.items()},
        "knee": {name: {"knee_rps": best, "steps": steps} for name, (best, steps) in knees.items()},
        "cpu": await targets.cpu_per_order_in_turn(both, 10.0, steady),
    }
    figures = ratios.against_floor(results, service.name, floor.name)
    results["ratios"] = ratios.written(figures, service.name, floor.name)
    results["_samples"] = {name: samples for name, (_, samples) in at_5.items()}
    return results


async def service_figures(ctx: scenarios.Context, quick: bool) -> dict[str, Any]:
    count = 20 if quick else 100
    return {
        "report_to_visible": await scenarios.report_to_visible(ctx, count),
        "failed_ttl_lateness": await scenarios.ttl_lateness(ctx, 20 if quick else 50),
        "worker_memory": await scenarios.worker_memory(ctx, 1000 if quick else 10_000),
    }


async def push_figures(ctx: scenarios.Context, quick: bool) -> dict[str, Any]:
    """Final status to webhook and to a waiting read; orders beside 500 waiting reads."""
    count = 20 if quick else 100
    return {
        "final_to_webhook": await scenarios.webhook_latency(ctx, count),
        "final_to_waiting_read": await scenarios.long_poll_latency(ctx, count),
        "orders_beside_waiting_reads": await scenarios.orders_beside_waiters(ctx, count),
    }


# The sections run on the one throwaway stack (stack_sections); the others need none or their own.
# Last: the noisy tenant's retries outlast it.
EVERY_RUN_ON_STACK = ("engine", "service", "push", "failover", "retention", "neighbours")
# Only when asked for: it bounds what the engine section's ratios can reach (docs/performance.md).
ON_REQUEST = ("front-door",)
STACK_SECTIONS = (*EVERY_RUN_ON_STACK, *ON_REQUEST)
# What `make bench` runs.
SECTIONS = ("http", "smtp", *EVERY_RUN_ON_STACK, "postgres", "store")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short phases, for a smoke run")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"sections, comma-separated: {(*SECTIONS, *ON_REQUEST)}",
    )
    args = parser.parse_args()
    sections = [s for s in args.only.split(",") if s]
    configure_logging("WARNING")
    results: dict[str, Any] = {}
    if "http" in sections:
        count = 500 if args.quick else 2000
        results["http"] = await _recorded("http", lambda: http_cost.in_process_of_its_own(count))
    if "smtp" in sections:
        count = 20 if args.quick else 100
        results["smtp"] = await _recorded("smtp", lambda: smtp_handover.measure(count))
    if set(sections) & set(STACK_SECTIONS):
        results.update(await stack_sections(sections, args.quick))
    if "postgres" in sections:
        results["postgres"] = await postgres_section(args.quick)
    if "store" in sections:
        results["store"] = store_section(args.quick)
    write(results, sections)
    return 0


async def stack_sections(sections: list[str], quick: bool) -> dict[str, Any]:
    """The sections that need the stack, in order, on one throwaway stack."""
    results: dict[str, Any] = {}
    async with bench_stack() as (ctx, group):
        address = ctx.connection.address or ""
        floor_queue = f"bench-engine-{uuid.uuid4().hex[:8]}"
        floor_worker = await group.start(engine.worker_service(address, floor_queue))
        floor_pids = {"temporal": ctx.pids["temporal"], engine.WORKER: floor_worker.pid}
        runs: dict[str, Callable[[], Awaitable[Any]]] = {
            "engine": lambda: _engine(ctx, address, floor_queue, floor_pids, quick),
            "service": lambda: service_figures(ctx, quick),
            "push": lambda: push_figures(ctx, quick),
            "failover": lambda: failover.measure(ctx, group, 5.0, 10.0 if quick else 30.0),
            "retention": lambda: retention.measure(ctx, quick),
            "neighbours": lambda: neighbours.measure(ctx, 20.0 if quick else 60.0),
            "front-door": lambda: _front_door(ctx, group, address, floor_queue, floor_pids, quick),
        }
        for section in sections:
            if section in runs:
                results[section] = await _section(section, runs[section], ctx)
                # A section may restart a process (failover does).
                ctx.pids.update(stack_pids(group))
    return results


async def _section(
    name: str, run: Callable[[], Awaitable[Any]], ctx: scenarios.Context
) -> dict[str, Any]:
    """One section, from an idle stack (the one before may leave a backlog)."""
    await scenarios.service(ctx).quiet()
    return await _recorded(name, run)


async def _recorded(name: str, run: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    """A failure is written down in the section's place, and the other sections still run."""
    log.warning("section %s", name)
    try:
        result: dict[str, Any] = await run()
    except Exception as error:
        log.exception("section %s failed", name)
        return {"error": f"{type(error).__name__}: {error}"}
    return result


async def _engine(
    ctx: scenarios.Context, address: str, queue: str, pids: dict[str, int], quick: bool
) -> dict[str, Any]:
    floor = await engine.target(address, queue, pids)
    return await compare(scenarios.service(ctx), floor, quick)


async def _front_door(
    ctx: scenarios.Context,
    group: ProcessGroup,
    address: str,
    queue: str,
    pids: dict[str, int],
    quick: bool,
) -> dict[str, Any]:
    """The floor behind a front door of no work of its own, against the floor itself."""
    port = free_port()
    door = await group.start(front_door.service(address, queue, port))
    try:
        floor = await engine.target(address, queue, pids)
        through = {**pids, front_door.NAME: door.pid}
        ours = front_door.target(ctx.caller, front_door.url(port), through, floor.client)
        return await compare(ours, floor, quick)
    finally:
        await group.stop(front_door.NAME)  # not one of the service's processes


async def postgres_section(quick: bool) -> dict[str, Any]:
    """The service on PostgreSQL, on a stack of its own (the machine's, BENCH_POSTGRES_URL)."""
    server = _postgres_server("postgres")
    if not server:
        return {"skipped": "no PostgreSQL"}
    return await _recorded("postgres", lambda: production_store.measure(server, quick))


def store_section(quick: bool) -> dict[str, Any]:
    """The data-scale table; it needs the machine's PostgreSQL (BENCH_POSTGRES_URL)."""
    server = _postgres_server("store")
    if not server:
        return {"skipped": "no PostgreSQL"}
    return data_scale.run(server, QUICK_SIZES if quick else SIZES)


def _postgres_server(section: str) -> str:
    server = os.environ.get("BENCH_POSTGRES_URL", "")
    if not server:
        log.warning("no PostgreSQL (BENCH_POSTGRES_URL): the %s section is left out", section)
    return server


def write(results: dict[str, Any], sections: list[str]) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M")
    name = stamp if sections == list(SECTIONS) else f"{stamp}-{'-'.join(sections)}"
    # Each comparison's samples are for the plot, which shows the engine section's only.
    samples = {section: found.pop("_samples", None) for section, found in results.items()}
    results["machine"] = machine.describe()
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    if samples.get("engine") is not None:
        plot(RESULTS / f"{name}.png", samples["engine"], results["engine"]["knee"])
    for line in summary.lines(results):
        log.warning("%s", line)
    log.warning("results in %s", RESULTS / f"{name}.json")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
