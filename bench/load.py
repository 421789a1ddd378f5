"""Open-loop load: requests start on schedule whatever the answers do, and each latency is
measured from its scheduled start, so a slow server cannot hide its queueing (no coordinated
omission)."""

import asyncio
import math
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Sample:
    scheduled: float
    latency_ms: float
    ok: bool


@dataclass(frozen=True)
class Summary:
    offered_rps: float
    achieved_rps: float
    requests: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


# Sends order number i; the order's workflow ID, or None when it was not answered as it should.
Send = Callable[[int], Awaitable[str | None]]


async def open_loop(send: Send, rate: float, seconds: float) -> list[Sample]:
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    tasks = []
    for i in range(int(rate * seconds)):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_timed(send, i, scheduled)))
    return list(await asyncio.gather(*tasks))


async def _timed(send: Send, i: int, scheduled: float) -> Sample:
    try:
        ok = await send(i) is not None
    except Exception:
        ok = False
    return Sample(scheduled, (asyncio.get_running_loop().time() - scheduled) * 1000, ok)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value at least `fraction` of them do not
    exceed. Of 100 values, the p99 is the 99th, not the largest; of 50, it is the largest."""
    ordered = sorted(values)
    return ordered[max(math.ceil(round(fraction * len(ordered), 9)) - 1, 0)] if ordered else 0.0


def summarize(samples: list[Sample], rate: float) -> Summary:
    return summarize_runs([samples], rate)


def summarize_runs(runs: list[list[Sample]], rate: float) -> Summary:
    """The runs' samples together; the rate achieved over the time the runs took."""
    latencies = [s.latency_ms for run in runs for s in run]
    span = sum(_span(run) for run in runs)
    return Summary(
        offered_rps=rate,
        achieved_rps=round(len(latencies) / span, 1) if span else 0.0,
        requests=len(latencies),
        errors=sum(not s.ok for run in runs for s in run),
        p50_ms=round(statistics.median(latencies), 1) if latencies else 0.0,
        p90_ms=round(percentile(latencies, 0.90), 1),
        p99_ms=round(percentile(latencies, 0.99), 1),
        max_ms=round(max(latencies, default=0.0), 1),
    )


def _span(samples: list[Sample]) -> float:
    """From the first scheduled start to the last answer."""
    if not samples:
        return 0.0
    return max(s.scheduled + s.latency_ms / 1000 for s in samples) - min(
        s.scheduled for s in samples
    )
