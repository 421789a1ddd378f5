"""The figures the service and the engine floor are compared by: the knee, and every figure
taken for both targets in turn, so that a drift of the machine's speed falls on both alike.

The toy targets' latencies are sleeps, run on a virtual clock (tests/support/virtual_time.py):
a stall of the machine running the tests cannot turn a carried step into a missed one."""

import asyncio
from collections.abc import Callable

from bench.load import Sample, summarize_runs
from bench.targets import (
    CPU_TAIL_SECONDS,
    KNEE_P99_MS,
    Target,
    at_rate_in_turn,
    cpu_per_order,
    in_turn,
    knee,
    knees,
    one_at_a_time_in_turn,
)
from tests.support.virtual_time import in_virtual_time


def _queues_past_40(i: int) -> float:
    return 0.001 if i < 40 else 0.4  # past 40 orders of a step, it queues


def _toy(
    name: str,
    delay: Callable[[int], float],
    settled: list[str] | None = None,
    settle_seconds: float = 0.0,
    happened: list[tuple[str, str, int]] | None = None,
) -> Target:
    """A target answering order `i` after `delay(i)`, settling in `settle_seconds` (it has no
    workflow to wait for); `settled` gets its name at each settle, `happened` each send and
    each end."""

    async def send(i: int) -> str:
        if happened is not None:
            happened.append(("sent", name, i))
        await asyncio.sleep(delay(i))
        return f"{name}-{i}"

    async def settle() -> None:
        await asyncio.sleep(settle_seconds)
        if settled is not None:
            settled.append(name)
        if happened is not None:
            happened.append(("ended", name, -1))

    return Target(name, send, {}, settle=settle)


def test_the_knee_is_the_last_rate_carried_within_the_p99_bound() -> None:
    target = _toy("toy", _queues_past_40)

    best, steps = in_virtual_time(knee(target, [50.0, 100.0, 200.0], seconds=0.5))

    # 50 carried, 100 missed twice; then halfway: 75 (37 orders) carried, 87.5 (43) missed twice.
    assert best == 75.0
    assert [step["offered_rps"] for step in steps] == [50.0, 100.0, 100.0, 75.0, 87.5, 87.5]
    assert all(steps[i]["p99_ms"] > KNEE_P99_MS for i in (1, 2, 4, 5))


def test_a_step_missed_once_is_run_again_and_counts_when_carried() -> None:
    stalls = iter([True])  # the first run of the step meets one stall, its rerun none

    async def one_stall(i: int) -> str:
        stalled = i == 10 and next(stalls, False)
        await asyncio.sleep(0.4 if stalled else 0.001)
        return f"toy-{i}"

    target = Target("toy", one_stall, {}, settle=lambda: asyncio.sleep(0))

    best, steps = in_virtual_time(knee(target, [100.0], seconds=0.5))

    assert best == 100.0
    assert [step["offered_rps"] for step in steps] == [100.0, 100.0]
    assert steps[0]["p99_ms"] > KNEE_P99_MS


def test_two_knees_take_their_steps_in_turn_and_each_is_its_own() -> None:
    settled: list[str] = []  # a target settles once after each run of a step
    queuing = _toy("queuing", _queues_past_40, settled)
    steady = _toy("steady", lambda _: 0.001, settled)

    found = in_virtual_time(knees([queuing, steady], [50.0, 100.0, 200.0], seconds=0.5))

    best, steps = found["queuing"]
    assert best == 75.0  # as found alone, in the test above
    assert [step["offered_rps"] for step in steps] == [50.0, 100.0, 100.0, 75.0, 87.5, 87.5]
    assert found["steady"][0] == 200.0
    assert [step["offered_rps"] for step in found["steady"][1]] == [50.0, 100.0, 200.0]
    # Turns alternate who goes first; a miss's rerun stays within its turn; once the steady
    # target has no rate left, the other goes on alone.
    assert settled == [
        "queuing", "steady",
        "steady", "queuing", "queuing",
        "queuing", "steady",
        "queuing", "queuing",
    ]  # fmt: skip


def test_slices_are_taken_in_turn_each_from_a_settled_stack() -> None:
    settled: list[str] = []
    first, second = _toy("first", lambda _: 0, settled), _toy("second", lambda _: 0, settled)
    measured: list[tuple[str, float]] = []

    async def measure(target: Target, seconds: float) -> int:
        measured.append((target.name, seconds))
        return len(measured)

    slices = in_virtual_time(in_turn([first, second], 6.0, measure, slice_seconds=2.0))

    assert [name for name, _ in measured] == [
        "first", "second",
        "second", "first",
        "first", "second",
    ]  # fmt: skip
    assert all(seconds == 2.0 for _, seconds in measured)
    assert settled == [name for name, _ in measured]
    assert slices == {"first": [1, 4, 5], "second": [2, 3, 6]}


def test_runs_in_turn_count_their_own_time_not_the_gaps_between_them() -> None:
    # Two runs of 10 orders at 100 req/s, 10 s apart (the other target's turn between them).
    runs = [
        [Sample(start + i / 100, latency_ms=5.0 + i, ok=True) for i in range(10)]
        for start in (0.0, 10.0)
    ]

    summary = summarize_runs(runs, 100)

    assert summary.requests == 20
    assert 90 <= summary.achieved_rps <= 110  # 20 orders in 2 x 0.104 s, not in 10.1 s
    assert summary.p50_ms == 9.5  # 5 to 14 ms in each run
    assert summary.max_ms == 14.0


def test_orders_one_at_a_time_take_turns_each_after_the_last_one_ended() -> None:
    happened: list[tuple[str, str, int]] = []
    a, b = (_toy(name, lambda _: 0.01, settle_seconds=0.1, happened=happened) for name in "ab")

    results = in_virtual_time(one_at_a_time_in_turn([a, b], count=2))

    # A B, B A, …: neither goes first more often; each order waits for the one before it.
    rounds = [("a", "b") if i % 2 == 0 else ("b", "a") for i in range(12)]
    expected = [(name, i) for i, pair in enumerate(rounds) for name in pair]
    assert happened == [
        event for name, i in expected for event in (("sent", name, i), ("ended", name, -1))
    ]
    # Ten orders each warm up first and are left out of the figures.
    assert [order.workflow_id for order in results["a"]] == ["a-10", "a-11"]
    assert [order.workflow_id for order in results["b"]] == ["b-10", "b-11"]
    assert all(o.sent <= o.answered for orders in results.values() for o in orders)


def test_cpu_is_counted_for_the_same_time_after_the_last_answer_whatever_the_settle() -> None:
    """A target whose reports land sooner must not be charged less idle time than another."""

    async def windows() -> dict[str, float]:
        loop, took = asyncio.get_running_loop(), {}
        quick = _toy("quick", lambda _: 0, settle_seconds=0.2)
        slow = _toy("slow", lambda _: 0, settle_seconds=CPU_TAIL_SECONDS + 1)
        for target in (quick, slow):
            started = loop.time()
            await cpu_per_order(target, rate=10.0, seconds=0.5)
            took[target.name] = loop.time() - started
        return took

    took = in_virtual_time(windows())

    # The last of 5 orders at 10 req/s answers at 0.45 s, then the tail; a settle longer than
    # the tail extends it.
    assert 0.45 + CPU_TAIL_SECONDS <= took["quick"] < 0.45 + CPU_TAIL_SECONDS + 0.1
    assert took["slow"] >= 0.45 + CPU_TAIL_SECONDS + 1


def test_a_slice_at_a_rate_counts_no_order_of_its_first_second() -> None:
    # Slow while warming up after an idle stack: the first second's 20 orders at 20 req/s.
    warming = _toy("warming", lambda i: 0.3 if i < 20 else 0.001)

    found = in_virtual_time(at_rate_in_turn([warming], rate=20, seconds=0.5))

    summary, samples = found["warming"]
    assert summary.requests == len(samples) == 10
    assert summary.max_ms < 300
