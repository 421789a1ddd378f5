"""A circuit breaker per provider and channel, in this process: after a run of failed calls
(not taken, a failed answer, or none), it is skipped for a while, then one probe decides."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "closed"  # asked in its turn
    OPEN = "open"  # skipped until the cooldown ends
    PROBING = "probing"  # the cooldown ended: one handover asks it (or is asking), and decides


@dataclass(frozen=True)
class CircuitView:
    """What the breaker says now, for metrics, logs and readiness."""

    channel: str
    provider: str
    state: CircuitState
    failures: int
    open_for_seconds: float


class CircuitBreaker:
    """Counts consecutive failed calls: a refusal of the recipient is an answer. A call left
    without an answer counts too: it steers only the next orders (its own ends "may have been
    sent"), and a provider that hangs would otherwise take every order for as long as it hangs.

    A probe holds its turn for one cooldown at most: a probe that never reports back (its
    handover failed elsewhere) does not keep the provider skipped for good."""

    def __init__(
        self,
        channel: str,
        provider: str,
        threshold: int,
        cooldown_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._channel, self._provider = channel, provider
        self._threshold, self._cooldown = threshold, cooldown_seconds
        self._clock = clock
        self._failures = 0
        self._open_until: float | None = None
        self._probe_until: float | None = None

    def admits(self) -> bool:
        """Whether a handover may ask this provider now (without taking the probe's turn)."""
        if self._open_until is None:
            return True
        now = self._clock()
        return now >= self._open_until and (self._probe_until is None or now >= self._probe_until)

    def admit(self) -> bool:
        """As `admits`; past the cooldown, the one handover admitted is the probe."""
        if not self.admits():
            return False
        if self._open_until is not None:
            self._probe_until = self._clock() + self._cooldown
        return True

    def answered(self) -> bool:
        """The provider took the message or refused it: it works. True when this closes it."""
        was_open = self._open_until is not None
        self._failures, self._open_until, self._probe_until = 0, None, None
        return was_open

    def failed(self) -> bool:
        """The provider did not take the message, answered with a failure, or did not answer.
        True when this opens the circuit (again)."""
        self._failures += 1
        closed = self._open_until is None
        if self._probe_until is not None or (closed and self._failures >= self._threshold):
            self._open()
            return True
        return False

    def view(self) -> CircuitView:
        if self._open_until is None:
            state, left = CircuitState.CLOSED, 0.0
        else:
            left = max(self._open_until - self._clock(), 0.0)
            state = CircuitState.OPEN if left > 0 else CircuitState.PROBING
        return CircuitView(self._channel, self._provider, state, self._failures, left)

    def _open(self) -> None:
        self._open_until = self._clock() + self._cooldown
        self._probe_until = None
