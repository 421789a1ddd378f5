"""An event loop on a virtual clock, for tests of timing logic with toy targets: whenever nothing
is ready, the clock jumps to the next timer instead of waiting for it. A sleep then takes exactly
its time, so a figure made from the loop's clock (latency, rate, p99) cannot be moved by a stall
of a busy machine, and the test takes no wall time for it."""

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _SkippingSelector(selectors.DefaultSelector):
    """Polls without blocking; with nothing ready, moves the clock on by the wait it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:  # no timer left: only I/O can wake the loop, as on a real clock
            return super().select(None)
        events: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if not events:
            self.now += max(timeout, 0.0)
        return events


class _VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._selector_clock = _SkippingSelector()
        super().__init__(self._selector_clock)

    def time(self) -> float:
        return self._selector_clock.now


def in_virtual_time(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs `coroutine` to its end on a fresh loop with a virtual clock."""
    with asyncio.Runner(loop_factory=_VirtualTimeLoop) as runner:
        return runner.run(coroutine)
