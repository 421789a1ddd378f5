"""`make bench`: start a stack of its own (or use a running one), drive it and the floor with
open-loop load, and write bench/results/<date>.json and .png."""

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.envconfig import ClientConfigProfile

from bench import engine, failover, scenarios
from bench.plot import plot
from core.config import Settings
from core.logs import configure_logging
from devstack import services
from devstack.processes import ProcessGroup, Service, free_port
from devstack.scratch import scratch_connection, scratch_settings, scratch_stack
from store.engine import create_db_engine

log = logging.getLogger("bench")
RESULTS = Path(__file__).parent / "results"


def floor_service(settings: Settings, connection: ClientConfigProfile, port: int) -> Service:
    command = services.uvicorn_command("bench.floor:create_floor", "127.0.0.1", port)
    return Service(
        "floor",
        command,
        services.environment(settings, connection),
        ready=lambda: services.http_ok(f"http://127.0.0.1:{port}/health"),
    )


async def measure(ctx: scenarios.Context, quick: bool) -> dict[str, Any]:
    seconds, rate = (5.0, 20.0) if quick else (30.0, 20.0)
    for target in ("service", "floor"):
        await scenarios.handover(ctx, target, rate, 3 if quick else 10)  # warm-up
    await asyncio.sleep(5)  # the warm-up's reports land
    unloaded = {
        "service": await scenarios.sequential(ctx, "service", 20 if quick else 100),
        "floor": await scenarios.sequential(ctx, "floor", 20 if quick else 100),
        "engine": await engine.round_trips(ctx.client, 20 if quick else 100),
    }
    log.warning("one at a time: %s", unloaded)
    at_target: dict[str, Any] = {}
    for target in ("service", "floor"):
        summary, samples = await scenarios.handover(ctx, target, rate, seconds)
        at_target[target] = (summary, samples)
        log.warning("%s at %g req/s: %s", target, rate, summary)
    rates = [5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 60.0, 80.0, 100.0, 120.0, 150.0, 200.0]
    knees = {}
    for target in ("service", "floor"):
        best, steps = await scenarios.knee(ctx, target, rates, 5 if quick else 10)
        knees[target] = {"knee_rps": best, "steps": steps}
        log.warning("%s knee: %g req/s", target, best)
    service, floor = at_target["service"][0], at_target["floor"][0]
    return {
        "at_target_rate": {
            "rate_rps": rate,
            "service": service.as_dict(),
            "floor": floor.as_dict(),
            "ratio_p50": round(service.p50_ms / floor.p50_ms, 2) if floor.p50_ms else None,
            "ratio_p99": round(service.p99_ms / floor.p99_ms, 2) if floor.p99_ms else None,
        },
        "one_at_a_time": unloaded,
        "knee": knees,
        "cpu_per_order": await scenarios.cpu_per_order(ctx, 10.0, 5 if quick else 20),
        "report_to_visible": await scenarios.report_to_visible(ctx, 20 if quick else 100),
        "failed_ttl_lateness": await scenarios.ttl_lateness(ctx, 20 if quick else 50),
        **await measure_push(ctx, quick),
        "worker_memory": await scenarios.worker_memory(ctx, 1000 if quick else 10_000),
        "_samples": {k: v[1] for k, v in at_target.items()},
    }


async def measure_push(ctx: scenarios.Context, quick: bool) -> dict[str, Any]:
    """Final status to webhook and to a waiting read; orders beside 500 waiting reads."""
    count = 20 if quick else 100
    return {
        "final_to_webhook": await scenarios.webhook_latency(ctx, count),
        "final_to_waiting_read": await scenarios.long_poll_latency(ctx, count),
        "orders_beside_waiting_reads": await scenarios.orders_beside_waiters(ctx, count),
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short phases, for a smoke run")
    parser.add_argument(
        "--only-push",
        action="store_true",
        help="only the webhook and waiting-read figures, printed and not written",
    )
    parser.add_argument(
        "--only-failover", action="store_true", help="only the failover phases (their own file)"
    )
    args = parser.parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        # Many tenants share the load, and each shipment of the waiting kind has its own, so
        # only the recipient limit could refuse an order: it stays at its default.
        settings, connection = scratch_settings(Path(tmp)), scratch_connection()
        group = ProcessGroup(sink=(Path(tmp) / "stack.log").open("wb"))
        floor_port = free_port()
        temporal_db = f"{tmp}/temporal.sqlite"
        async with scratch_stack(settings, connection, group=group, db_file=temporal_db) as client:
            await group.start(floor_service(settings, connection, floor_port))
            limits = httpx.Limits(max_connections=2000, max_keepalive_connections=200)
            async with httpx.AsyncClient(timeout=30, limits=limits) as http:
                ctx = scenarios.Context(
                    settings,
                    settings.api_url,
                    f"http://127.0.0.1:{floor_port}",
                    http,
                    client,
                    create_db_engine(settings.database_url),
                    {n: p.pid for n, p in group.processes.items() if n != "floor"},
                    connection,
                )
                if args.only_push:
                    pushed = await measure_push(ctx, args.quick)
                    sys.stdout.write(json.dumps(pushed, indent=2) + "\n")
                    return 0
                if args.only_failover:
                    seconds = 5.0 if args.quick else 30.0
                    results = {"failover": await failover.measure(ctx, group, 5.0, seconds)}
                else:
                    results = await measure(ctx, args.quick)
                    results["failover"] = await failover.measure(ctx, group, 5.0, 30.0)
    write(results)
    return 0


def write(results: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M")
    samples = results.pop("_samples", None)
    results["machine"] = {"cores": os.cpu_count(), "python": sys.version.split()[0]}
    name = stamp if samples is not None else f"{stamp}-failover"
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    if samples is not None:
        plot(
            RESULTS / f"{stamp}.png",
            samples,
            results["knee"],
            results["at_target_rate"]["rate_rps"],
        )
    log.warning("results in %s", RESULTS / f"{name}.json")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
