"""What the benchmark measures side by side: the service (orders through the API) and the engine
floor (the same Temporal shape with no work of ours), each with the processes it runs on, and
the figures taken the same way for both: one at a time, open-loop at a rate, the knee, and CPU
per order by process."""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.load import Sample, Send, Summary, open_loop, percentile, summarize

# The knee: the highest offered rate that is still carried (95% of it achieved), without
# errors, with p99 at most this.
KNEE_P99_MS = 150.0


@dataclass
class Target:
    """One order at a time through `send`; `settle` waits until the orders' reports landed."""

    name: str
    send: Send
    pids: dict[str, int]  # the processes that do its work, by name
    settle: Callable[[], Awaitable[None]] = field(default=lambda: asyncio.sleep(3))

    async def quiet(self, within: float = 120.0) -> None:
        """Settle, then wait until its processes are idle (a backlog left by an overload is
        worked off), so the next figure starts from an idle machine."""
        await self.settle()
        deadline = time.perf_counter() + within
        while time.perf_counter() < deadline:
            before = sum(cpu_seconds(pid) for pid in self.pids.values())
            await asyncio.sleep(1.0)
            if sum(cpu_seconds(pid) for pid in self.pids.values()) - before < 0.1:
                return


async def at_rate(target: Target, rate: float, seconds: float) -> tuple[Summary, list[Sample]]:
    samples = await open_loop(target.send, rate, seconds)
    return summarize(samples, rate), samples


async def one_at_a_time(target: Target, count: int) -> dict[str, float]:
    """Orders on an idle stack: each waits for the previous one's report to be processed, so
    the figure is one order's path alone, without queueing."""
    latencies = []
    for n in range(count + 10):
        began = time.perf_counter()
        if not await target.send(n):
            raise RuntimeError(f"{target.name} did not answer a valid order as it should")
        latencies.append((time.perf_counter() - began) * 1000)
        await asyncio.sleep(0.25)
    return distribution(latencies[10:])  # the first ones warm connections and caches


async def knee(
    target: Target, rates: list[float], seconds: float, refinements: int = 2
) -> tuple[float, list[dict[str, float]]]:
    """The highest rate the target carries (see KNEE_P99_MS): up `rates` to the first miss,
    then halfway between the last rate carried and that miss, `refinements` times, so that
    the ratio of two knees is not an artefact of the steps."""
    best, steps = 0.0, list[dict[str, float]]()
    missed: float | None = None
    for rate in rates:
        if not await _carries(target, rate, seconds, steps):
            missed = rate
            break
        best = rate
    if missed is None:
        return best, steps
    for _ in range(refinements):
        rate = round((best + missed) / 2, 2)
        if await _carries(target, rate, seconds, steps):
            best = rate
        else:
            missed = rate
    return best, steps


async def _carries(
    target: Target, rate: float, seconds: float, steps: list[dict[str, float]]
) -> bool:
    """Whether the target carries `rate`; a miss is run once more before it counts, since one
    stall of a co-located process can decide the p99 of a short step."""
    for _ in range(2):
        summary, _ = await at_rate(target, rate, seconds)
        steps.append(summary.as_dict())
        await target.quiet()
        carried = summary.achieved_rps >= 0.95 * rate
        if not summary.errors and summary.p99_ms <= KNEE_P99_MS and carried:
            return True
    return False


async def cpu_per_order(target: Target, rate: float, seconds: float) -> dict[str, Any]:
    """CPU time each process spends on one order (with its report), below the knee: where the
    machine's capacity goes. This process's share is the load generator's."""
    before = {name: cpu_seconds(pid) for name, pid in target.pids.items()}
    own_before = _own_cpu_seconds()
    summary, _ = await at_rate(target, rate, seconds)
    await target.settle()
    spent = {name: cpu_seconds(pid) - before[name] for name, pid in target.pids.items()}
    spent["load generator"] = _own_cpu_seconds() - own_before
    spent["total"] = sum(spent.values())
    per_order = {name: round(1000 * value / summary.requests, 1) for name, value in spent.items()}
    return {"rate_rps": rate, "orders": summary.requests, "cpu_ms_per_order": per_order}


def cpu_seconds(pid: int) -> float:
    """User and system time of a process and of the children it waited for."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def distribution(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 0.5), 1),
        "p99_ms": round(percentile(values, 0.99), 1),
        "max_ms": round(max(values), 1),
    }
