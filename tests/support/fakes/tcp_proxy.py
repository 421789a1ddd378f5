"""A TCP proxy to a local server that holds every chunk half a round trip each way, as a network
between them would, keeps what the client sent, chunk by chunk as it came, and can cut a
connection at a chosen chunk, as a line that breaks."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast


@dataclass
class Proxy:
    port: int
    sent: list[bytes] = field(default_factory=list)  # by the client, in the chunks it wrote
    forwarded: int = 0  # chunks passed on, either way, on every connection
    # Once this many chunks are passed on, the connection that passed the last one is cut on
    # both sides (reset), before anything more goes either way.
    cut_after: int | None = None
    cuts: int = 0  # connections cut and closed

    def passed(self) -> bool:
        """Counts a chunk passed on: whether its connection is to be cut now."""
        self.forwarded += 1
        return self.forwarded == self.cut_after


@contextlib.asynccontextmanager
async def proxied(port: int, round_trip_ms: float = 0.0) -> AsyncIterator[Proxy]:
    one_way = round_trip_ms / 2000

    async def pump(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        kept: list[bytes] | None,
        cut: asyncio.Event,
    ) -> None:
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def forward() -> None:
            while True:
                due, chunk = await chunks.get()
                await asyncio.sleep(max(due - time.monotonic(), 0.0))
                if cut.is_set():
                    return
                if not chunk:
                    writer.close()
                    return
                writer.write(chunk)
                if proxy.passed():
                    cut.set()

        sending = asyncio.create_task(forward())
        try:
            while chunk := await reader.read(65536):
                if kept is not None:
                    kept.append(chunk)
                chunks.put_nowait((time.monotonic() + one_way, chunk))
            chunks.put_nowait((time.monotonic() + one_way, b""))
            await sending
        finally:
            sending.cancel()

    connections: set[asyncio.Task[Any]] = set()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.add(cast(asyncio.Task[Any], asyncio.current_task()))
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        cut = asyncio.Event()
        both = asyncio.gather(
            pump(reader, up_writer, proxy.sent, cut), pump(up_reader, writer, None, cut)
        )
        ending: set[asyncio.Future[Any]] = {both, asyncio.ensure_future(cut.wait())}
        with contextlib.suppress(OSError, asyncio.CancelledError):
            await asyncio.wait(ending, return_when=asyncio.FIRST_COMPLETED)
        for future in ending:
            future.cancel()
        await asyncio.gather(*ending, return_exceptions=True)
        for side in (writer, up_writer):
            if cut.is_set():
                side.transport.abort()
            else:
                side.close()
        proxy.cuts += cut.is_set()

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    proxy = Proxy(server.sockets[0].getsockname()[1])
    try:
        yield proxy
    finally:
        server.close()
        for task in connections:
            task.cancel()  # it still closes both its sides
        await asyncio.gather(*connections, return_exceptions=True)
