"""Our outgoing clients against a server that closes a connection after 4.5 s of quiet, the
moment the next request reaches it (as a server closing at 5 s does, now and then, when the
request crosses its close)."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from core import outbound
from webhooks.sender import new_client as webhooks_client

SERVER_IDLE_SECONDS = 4.5
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


class ClosingServer:
    def __init__(self) -> None:
        self.connections = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(asyncio.IncompleteReadError):  # the client closed it
            await self._answer(reader, writer)
        writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered = None
        while head := await reader.readuntil(b"\r\n\r\n"):
            lengths = [h for h in head.lower().split(b"\r\n") if h.startswith(b"content-length")]
            await reader.readexactly(int(lengths[0].split(b":")[1]) if lengths else 0)
            if answered is not None and time.monotonic() - answered >= SERVER_IDLE_SECONDS:
                break  # closed without an answer: the request may have been read
            writer.write(ANSWER)
            await writer.drain()
            answered = time.monotonic()


@contextlib.asynccontextmanager
async def closing_server() -> AsyncIterator[tuple[ClosingServer, str]]:
    fake = ClosingServer()
    server = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield fake, f"http://127.0.0.1:{port}/hooks"


@pytest.mark.parametrize(
    "make", [outbound.new_client, webhooks_client], ids=["gateways", "webhooks"]
)
async def test_a_request_after_a_quiet_spell_goes_on_a_new_connection(
    make: Callable[[], httpx.AsyncClient],
) -> None:
    assert outbound.IDLE_CONNECTION_SECONDS < SERVER_IDLE_SECONDS
    async with closing_server() as (server, url), make() as client:
        first = await client.post(url, content=b"{}")
        await asyncio.sleep(SERVER_IDLE_SECONDS + 0.2)
        second = await client.post(url, content=b"{}")

    assert (first.status_code, second.status_code) == (200, 200)
    assert server.connections == 2


async def test_requests_close_together_share_a_connection() -> None:
    async with closing_server() as (server, url), outbound.new_client() as client:
        for _ in range(3):
            assert (await client.post(url, content=b"{}")).status_code == 200
            await asyncio.sleep(1)

    assert server.connections == 1
