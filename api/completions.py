"""Wake the requests that wait for a shipment to complete: one watcher per API process.

A waiting request costs a future here, nothing in Temporal and nothing in the database. The
watcher learns of completions from PostgreSQL's NOTIFY, sent in the transaction that appends
the feed entry, or on SQLite from one shared poll of the feed's newest entries, which runs only
while someone waits.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import Engine

from core import metrics
from store import feed

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.01
_RECONNECT_SECONDS = 1.0


class CompletionWatcher:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None

    @asynccontextmanager
    async def watching(self, shipment_id: str) -> AsyncIterator[asyncio.Future[None]]:
        """A future done when the shipment completes from now on; read the shipment after
        entering, so a completion between that read and the wait is not missed."""
        future = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(shipment_id, set()).add(future)
        try:
            with metrics.WAITING_READS.track_inprogress():
                await asyncio.shield(self._started())
                yield future
        finally:
            waiting = self._waiters.get(shipment_id, set())
            waiting.discard(future)
            if not waiting:
                self._waiters.pop(shipment_id, None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _started(self) -> asyncio.Future[None]:
        if self._task is None or self._task.done():
            self._ready = asyncio.get_running_loop().create_future()
            watch = self._listen if self._engine.dialect.name == "postgresql" else self._poll
            self._task = asyncio.create_task(watch(self._ready))
        assert self._ready is not None
        return self._ready

    async def _poll(self, ready: asyncio.Future[None]) -> None:
        """SQLite: one query of the feed's newest entries every 10 ms, while anyone waits.

        If the store fails, the poll ends and waiters fall back to their own time limit; the
        next waiter starts it again."""
        try:
            newest = await asyncio.to_thread(self._newest)
            ready.set_result(None)
            while self._waiters:
                await asyncio.sleep(_POLL_SECONDS)
                for seq, shipment_id in await asyncio.to_thread(self._entries_after, newest):
                    newest = max(newest, seq)
                    self._wake(shipment_id)
        except Exception:
            log.warning("polling for completions failed", exc_info=True)
            if not ready.done():
                ready.set_result(None)

    async def _listen(self, ready: asyncio.Future[None]) -> None:
        """PostgreSQL: LISTEN on one connection for as long as the process runs."""
        while True:
            try:
                notices = feed.completion_notices(self._engine)
                await anext(notices)
                if not ready.done():
                    ready.set_result(None)
                else:  # listening again after a lost connection: whatever completed meanwhile
                    self._wake_all()
                async for shipment_id in notices:
                    self._wake(shipment_id)
            except Exception:
                log.warning("listening for completions failed; again in 1 s", exc_info=True)
                if not ready.done():
                    ready.set_result(None)  # the waiters fall back to their own time limit
                await asyncio.sleep(_RECONNECT_SECONDS)

    def _newest(self) -> int:
        with self._engine.connect() as connection:
            return feed.newest_sequence_number(connection)

    def _entries_after(self, seq: int) -> list[tuple[int, str]]:
        with self._engine.connect() as connection:
            return feed.completed_after(connection, seq)

    def _wake(self, shipment_id: str) -> None:
        for future in self._waiters.get(shipment_id, ()):
            if not future.done():
                future.set_result(None)

    def _wake_all(self) -> None:
        for shipment_id in list(self._waiters):
            self._wake(shipment_id)
