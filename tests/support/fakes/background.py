"""Work a fake provider does after it has answered, as a provider's report queue would."""

import asyncio
from collections.abc import Coroutine
from typing import Any


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # held, so the loop does not lose it
        task.add_done_callback(self._tasks.discard)
