"""The benchmark's load generator is open-loop: slow answers never delay later requests, and
each latency counts from the request's scheduled start."""

import asyncio
import uuid

from temporalio.testing import WorkflowEnvironment

from bench import engine
from bench.load import open_loop, percentile, summarize


async def test_requests_start_on_schedule_whatever_the_answers_do() -> None:
    started: list[float] = []
    loop = asyncio.get_running_loop()

    async def slow(i: int) -> str:
        started.append(loop.time())
        await asyncio.sleep(0.5)
        return f"order-{i}"

    began = loop.time()
    samples = await open_loop(slow, rate=50, seconds=0.4)

    assert len(samples) == 20
    # A closed loop would need 20 x 0.5 s; open-loop, the last request starts at about 0.4 s
    # (the margins leave room for a busy machine, not for a closed loop).
    assert started[-1] - began < 2.0
    assert loop.time() - began < 4.0
    assert all(s.latency_ms >= 500 for s in samples)


async def test_queueing_counts_from_the_scheduled_start() -> None:
    gate = asyncio.Lock()

    async def one_at_a_time(i: int) -> str:
        async with gate:  # a server that serves one request at a time
            await asyncio.sleep(0.05)
        return f"order-{i}"

    samples = await open_loop(one_at_a_time, rate=100, seconds=0.1)
    summary = summarize(samples, 100)

    # The last request, scheduled at 90 ms, waits for nine others (9 x 50 ms) and takes its own
    # 50 ms: about 410 ms from its schedule, where a closed loop would report only 50 ms.
    assert max(s.latency_ms for s in samples) > 350
    assert summary.achieved_rps < 30
    assert summary.errors == 0


async def test_failures_and_exceptions_count_as_errors() -> None:
    async def flaky(i: int) -> str | None:
        if i % 3 == 0:
            raise ConnectionError("refused")
        return f"order-{i}" if i % 3 == 1 else None  # None: not answered as it should

    summary = summarize(await open_loop(flaky, rate=200, seconds=0.03), 200)

    assert summary.requests == 6
    assert summary.errors == 4


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0  # not the largest of 100
    assert percentile(values[:50], 0.99) == 100.0  # of 50, only the largest is
    assert percentile([float(v) for v in range(1, 201)], 0.99) == 198.0
    assert percentile([float(v) for v in range(1, 101)], 0.07) == 7.0  # 0.07 * 100 > 7.0
    assert percentile([], 0.5) == 0.0


async def test_the_engine_floor_has_an_orders_shape(temporal_env: WorkflowEnvironment) -> None:
    """Update-with-Start answered after the first local activity, then the report's signal
    decides before the TTL timer, then the second local activity and the end."""
    client = temporal_env.client
    queue = f"floor-{uuid.uuid4().hex[:8]}"
    floor = engine.FloorOrders(client, queue)
    orders = engine.ReportedOrders(floor.hand_over, floor.report)
    async with engine.floor_worker(client, queue):
        answered = [await orders.place() for _ in range(3)]
        await orders.settle()
        ids = [w.id async for w in client.list_workflows(f'TaskQueue="{queue}"')]
        results = [await client.get_workflow_handle(i).result() for i in ids]

    assert set(answered) == set(ids)  # each order answered with its own workflow's ID
    assert len(ids) == 3
    assert len(results) == 3
    assert all(result["reported"] for result in results)
