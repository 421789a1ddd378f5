"""An outage on demand: the simulator refuses every handover (HTTP 503, SMTP 451) until it
ends, as a provider that is down does, so a failover can be seen and tested."""

import time


class Outage:
    def __init__(self) -> None:
        self._until = 0.0

    @property
    def active(self) -> bool:
        return time.monotonic() < self._until

    def start(self, seconds: float) -> None:
        self._until = time.monotonic() + seconds

    def end(self) -> None:
        self._until = 0.0

    def seconds_left(self) -> float:
        return max(self._until - time.monotonic(), 0.0)
