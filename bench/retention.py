"""Retention beside the order path: order latency at a steady rate, first alone, then while
RetentionWorkflow removes old shipments it finds in the store (loaded directly, and on
PostgreSQL vacuumed, as autovacuum keeps a store in service)."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import data_scale
from bench.scenarios import Context, service
from bench.targets import at_rate
from workflows.retention import RetentionInput, RetentionWorkflow

RATE = 5.0
DAYS = 90


async def measure(ctx: Context, quick: bool) -> dict[str, Any]:
    old = 10_000 if quick else 100_000
    seconds = 10.0 if quick else 30.0
    # Old and completed, so every one of them is the retention's to remove.
    ending = datetime.now(UTC) - timedelta(days=DAYS + 10)
    await asyncio.to_thread(data_scale.load, ctx.engine, 0, old, ending, 5)
    alone, _ = await at_rate(service(ctx), RATE, seconds)
    began = time.perf_counter()
    run = await ctx.client.start_workflow(
        RetentionWorkflow.run,
        RetentionInput(days=DAYS, batch_size=ctx.settings.retention_batch_size),
        id=f"bench-retention-{uuid.uuid4().hex[:8]}",
        task_queue=ctx.settings.temporal_task_queue,
    )
    beside, _ = await at_rate(service(ctx), RATE, seconds)
    removed = (await run.result()).removed
    return {
        "old_shipments": old,
        "removed_rows": removed,
        "retention_seconds": round(time.perf_counter() - began, 1),
        "orders_alone": alone.as_dict(),
        "orders_while_retention_runs": beside.as_dict(),
    }
