"""A TCP proxy to a local server that holds every chunk half a round trip each way, as a network
between them would, and keeps what the client sent, chunk by chunk as it came."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Proxy:
    port: int
    sent: list[bytes] = field(default_factory=list)  # by the client, in the chunks it wrote


@contextlib.asynccontextmanager
async def proxied(port: int, round_trip_ms: float = 0.0) -> AsyncIterator[Proxy]:
    one_way = round_trip_ms / 2000

    async def pump(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, kept: list[bytes] | None
    ) -> None:
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def forward() -> None:
            while True:
                due, chunk = await chunks.get()
                await asyncio.sleep(max(due - time.monotonic(), 0.0))
                if not chunk:
                    writer.close()
                    return
                writer.write(chunk)

        sending = asyncio.create_task(forward())
        while chunk := await reader.read(65536):
            if kept is not None:
                kept.append(chunk)
            chunks.put_nowait((time.monotonic() + one_way, chunk))
        chunks.put_nowait((time.monotonic() + one_way, b""))
        await sending

    pumps: set[asyncio.Future[Any]] = set()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        both = asyncio.gather(pump(reader, up_writer, proxy.sent), pump(up_reader, writer, None))
        pumps.add(both)
        with contextlib.suppress(OSError, asyncio.CancelledError):
            await both
        for side in (writer, up_writer):
            side.close()

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    proxy = Proxy(server.sockets[0].getsockname()[1])
    try:
        yield proxy
    finally:
        server.close()
        for both in pumps:
            both.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
