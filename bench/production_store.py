"""The service on the store production runs on: the same orders as the engine section's, on
PostgreSQL instead of the local SQLite file, with PostgreSQL's own CPU counted. A stack of its
own, started after the other sections' has stopped."""

import os
from typing import Any

from bench import retention, scenarios, targets
from bench.stack import bench_stack
from devstack.postgres import scratch_postgres_database
from store.migrate import migrate_database


async def measure(server_url: str, quick: bool) -> dict[str, Any]:
    """p50 at 5 req/s and CPU per order at 10 req/s, as the engine section measures them, and
    orders beside retention, as the retention section measures them."""
    steady = 10.0 if quick else 30.0
    with scratch_postgres_database(server_url) as url:
        migrate_database(url)
        async with bench_stack(database_url=url) as (ctx, _):
            service = scenarios.service(ctx)
            await targets.at_rate(service, 10.0, 3.0 if quick else 10.0)  # warm-up
            await service.quiet()
            at_5, _ = await targets.at_rate(service, 5.0, steady)
            await service.quiet()
            before = postgres_cpu_seconds()
            cpu = await targets.cpu_per_order(service, 10.0, steady)
            spent = postgres_cpu_seconds() - before
            await service.quiet()
            removal = await retention.measure(ctx, quick)
    per_order = cpu["cpu_ms_per_order"]
    per_order["postgresql"] = round(1000 * spent / cpu["orders"], 1)
    per_order["total"] = round(per_order["total"] + per_order["postgresql"], 1)
    return {"at_5_rps": at_5.as_dict(), "cpu": cpu, "retention": removal}


def postgres_cpu_seconds() -> float:
    """All of the machine's PostgreSQL processes: the server's work for the stack's
    connections, and its WAL writer and checkpointer."""
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() == "postgres":
                    total += targets.cpu_seconds(int(pid))
        except OSError:
            continue  # ended meanwhile
    return total
