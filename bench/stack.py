"""The throwaway stack the benchmark's sections run on, and how they reach it."""

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from bench import caller
from bench import engine as floor
from bench.scenarios import Context
from devstack.processes import ProcessGroup
from devstack.scratch import scratch_connection, scratch_settings, scratch_stack
from store.engine import create_db_engine


@asynccontextmanager
async def bench_stack(**overrides: Any) -> AsyncIterator[tuple[Context, ProcessGroup]]:
    """A whole stack of scratch settings (with `overrides`), its processes' output in a log
    file of its own; the group, for sections that start or stop processes in it."""
    with tempfile.TemporaryDirectory() as tmp:
        settings, connection = scratch_settings(Path(tmp), **overrides), scratch_connection()
        group = ProcessGroup(sink=(Path(tmp) / "stack.log").open("wb"))
        limits = httpx.Limits(max_connections=2000, max_keepalive_connections=200)
        async with (
            scratch_stack(
                settings, connection, group=group, db_file=f"{tmp}/temporal.sqlite"
            ) as client,
            httpx.AsyncClient(timeout=30, limits=limits) as http,
            caller.session() as orders,
        ):
            engine = create_db_engine(settings.database_url)
            pids = stack_pids(group)
            context = Context(
                settings, settings.api_url, http, client, engine, pids, connection, orders
            )
            yield context, group
            engine.dispose()


def stack_pids(group: ProcessGroup) -> dict[str, int]:
    return {name: process.pid for name, process in group.processes.items() if name != floor.WORKER}
