"""What the benchmark measures side by side: the service (orders through the API) and the engine
floor (the same Temporal shape with no work of ours), each with the processes it runs on, and
the figures taken the same way for both: one at a time, open-loop at a rate, the knee, and CPU
per order by process."""

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from temporalio.client import Client

from bench.load import Sample, Send, Summary, open_loop, percentile, summarize, summarize_runs
from bench.waterfall import Answered

# The knee: the highest offered rate that is still carried (95% of it achieved), without
# errors, with p99 at most this.
KNEE_P99_MS = 150.0
# The targets compared take turns in slices this long: the speed of a shared machine drifts
# over minutes, and a figure taken for one target after the other would carry that drift.
SLICE_SECONDS = 5.0
# Each slice at a rate starts from an idle stack; its first second, the path warming up again,
# is run but not counted, so that the slices add up to what one steady run would show.
SLICE_WARM_UP_SECONDS = 1.0
# CPU per order counts this long after a run's last answer, for every target alike: long enough
# for the orders' reports and what they start, and the same idle time charged to each.
CPU_TAIL_SECONDS = 3.0
# Orders taken one at a time that only warm connections and caches, left out of the figures.
ONE_AT_A_TIME_WARM_UP = 10
T = TypeVar("T")


@dataclass
class Target:
    """One order at a time through `send`; `settle` waits until the orders' reports landed;
    `client` reads the orders' workflows (bench/waterfall.py)."""

    name: str
    send: Send
    pids: dict[str, int]  # the processes that do its work, by name
    settle: Callable[[], Awaitable[None]] = field(default=lambda: asyncio.sleep(3))
    client: Client | None = None

    async def quiet(self, within: float = 120.0) -> None:
        """Settle, then wait until its processes are idle (a backlog left by an overload is
        worked off), so the next figure starts from an idle machine."""
        await self.settle()
        if not self.pids:
            return  # nothing to watch
        deadline = time.perf_counter() + within
        while time.perf_counter() < deadline:
            before = sum(cpu_seconds(pid) for pid in self.pids.values())
            await asyncio.sleep(1.0)
            if sum(cpu_seconds(pid) for pid in self.pids.values()) - before < 0.1:
                return

    async def finished(self, workflow_id: str) -> None:
        """Wait until the order's workflow has ended, its report processed; a target without
        a client to read it settles instead."""
        if self.client is None:
            await self.settle()
        else:
            await self.client.get_workflow_handle(workflow_id).result()


async def at_rate(target: Target, rate: float, seconds: float) -> tuple[Summary, list[Sample]]:
    samples = await open_loop(target.send, rate, seconds)
    return summarize(samples, rate), samples


async def in_turn(
    targets: Sequence[Target],
    seconds: float,
    measure: Callable[[Target, float], Awaitable[T]],
    slice_seconds: float = SLICE_SECONDS,
) -> dict[str, list[T]]:
    """`measure` each target for `seconds` in slices taken in turn (A B, B A, A B …), each
    from an idle stack, so that both see the machine as it is over the same minutes."""
    count = max(1, round(seconds / slice_seconds))
    slices: dict[str, list[T]] = {target.name: [] for target in targets}
    for target in turns(targets, count):
        slices[target.name].append(await measure(target, seconds / count))
        await target.quiet()
    return slices


def turns(items: Sequence[T], rounds: int) -> Iterator[T]:
    """`items` `rounds` times, each round in the other order (A B, B A, A B …): neither goes
    first more often, so a drift of the machine over the rounds falls on all alike."""
    order = list(items)
    for _ in range(rounds):
        yield from order
        order.reverse()


async def at_rate_in_turn(
    targets: Sequence[Target], rate: float, seconds: float
) -> dict[str, tuple[Summary, list[Sample]]]:
    """Open-loop load at `rate` for `seconds` each, in slices taken in turn."""

    async def steady(target: Target, seconds: float) -> list[Sample]:
        samples = await open_loop(target.send, rate, SLICE_WARM_UP_SECONDS + seconds)
        return samples[round(rate * SLICE_WARM_UP_SECONDS) :]

    slices = await in_turn(targets, seconds, steady)
    return {
        name: (summarize_runs(runs, rate), [sample for run in runs for sample in run])
        for name, runs in slices.items()
    }


async def one_at_a_time(target: Target, count: int) -> dict[str, float]:
    return answer_times((await one_at_a_time_in_turn([target], count))[target.name])


def answer_times(orders: Sequence[Answered]) -> dict[str, float]:
    """The distribution of the orders' times from the caller's request to its answer."""
    return distribution([order.latency_ms for order in orders])


async def one_at_a_time_in_turn(targets: Sequence[Target], count: int) -> dict[str, list[Answered]]:
    """Orders on an idle stack, the targets' in turn (A B, B A, …): each waits until the
    previous one's workflow has ended, its report processed, so the figure is one order's path
    alone, without queueing."""
    answered: dict[str, list[Answered]] = {target.name: [] for target in targets}
    for i, target in enumerate(turns(targets, count + ONE_AT_A_TIME_WARM_UP)):
        sent = time.time()
        workflow_id = await target.send(i // len(targets))
        if workflow_id is None:
            raise RuntimeError(f"{target.name} did not answer a valid order as it should")
        answered[target.name].append(Answered(workflow_id, sent, time.time()))
        await target.finished(workflow_id)
    return {name: orders[ONE_AT_A_TIME_WARM_UP:] for name, orders in answered.items()}


Knee = tuple[float, list[dict[str, float]]]  # the rate carried, and every step run


async def knee(target: Target, rates: list[float], seconds: float, refinements: int = 2) -> Knee:
    return (await knees([target], rates, seconds, refinements))[target.name]


async def knees(
    targets: Sequence[Target], rates: list[float], seconds: float, refinements: int = 2
) -> dict[str, Knee]:
    """Each target's knee (see KNEE_P99_MS and `_knee_search`), their steps taken in turn."""
    searches = {target.name: _knee_search(rates, refinements) for target in targets}
    steps: dict[str, list[dict[str, float]]] = {target.name: [] for target in targets}
    found: dict[str, Knee] = {}
    pending = {target.name: next(searches[target.name]) for target in targets}
    order = list(targets)
    while pending:
        for target in [t for t in order if t.name in pending]:
            carried = await _carries(target, pending[target.name], seconds, steps[target.name])
            try:
                pending[target.name] = searches[target.name].send(carried)
            except StopIteration as done:
                found[target.name] = (done.value, steps[target.name])
                del pending[target.name]
        order.reverse()
    return found


def _knee_search(rates: list[float], refinements: int) -> Generator[float, bool, float]:
    """The rates to try, each told whether it was carried: up `rates` to the first miss, then
    halfway between the last rate carried and that miss, `refinements` times, so that the
    ratio of two knees is not an artefact of the steps. Returns the highest rate carried."""
    best, missed = 0.0, None
    for rate in rates:
        if not (yield rate):
            missed = rate
            break
        best = rate
    if missed is None:
        return best
    for _ in range(refinements):
        rate = round((best + missed) / 2, 2)
        if (yield rate):
            best = rate
        else:
            missed = rate
    return best


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


@dataclass(frozen=True)
class CpuSpent:
    orders: int
    seconds: dict[str, float]  # by process, the load generator's included


async def cpu_per_order(target: Target, rate: float, seconds: float) -> dict[str, Any]:
    return _per_order([await _cpu_spent(target, rate, seconds)], rate)


async def cpu_per_order_in_turn(
    targets: Sequence[Target], rate: float, seconds: float
) -> dict[str, dict[str, Any]]:
    """CPU per order at `rate`, in slices taken in turn."""
    slices = await in_turn(targets, seconds, lambda target, s: _cpu_spent(target, rate, s))
    return {name: _per_order(runs, rate) for name, runs in slices.items()}


async def _cpu_spent(target: Target, rate: float, seconds: float) -> CpuSpent:
    """CPU time each process spends on the orders (with their reports) of a run below the
    knee: where the machine's capacity goes, counted until CPU_TAIL_SECONDS after the last
    answer (or its settle, if longer). This process's share is the load generator's."""
    before = {name: cpu_seconds(pid) for name, pid in target.pids.items()}
    own_before = _own_cpu_seconds()
    summary, _ = await at_rate(target, rate, seconds)
    loop = asyncio.get_running_loop()
    answered = loop.time()
    await target.settle()
    await asyncio.sleep(answered + CPU_TAIL_SECONDS - loop.time())
    spent = {name: cpu_seconds(pid) - before[name] for name, pid in target.pids.items()}
    spent["load generator"] = _own_cpu_seconds() - own_before
    return CpuSpent(summary.requests, spent)


def _per_order(runs: list[CpuSpent], rate: float) -> dict[str, Any]:
    orders = sum(run.orders for run in runs)
    spent = {name: sum(run.seconds[name] for run in runs) for name in runs[0].seconds}
    spent["total"] = sum(spent.values())
    per_order = {name: round(1000 * value / orders, 1) for name, value in spent.items()}
    return {"rate_rps": rate, "orders": orders, "cpu_ms_per_order": per_order}


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
        "p50_ms": round(statistics.median(values), 1),
        "p99_ms": round(percentile(values, 0.99), 1),
        "max_ms": round(max(values), 1),
    }
