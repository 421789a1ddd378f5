"""Delivery attempts over TLS: the receiver's certificate is checked for the URL's name, and a
kept connection serves only the name it was checked for."""

import asyncio
import ipaddress
import os
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.polling import eventually
from webhooks.sender import Receivers, post_event
from webhooks.targets import Target

# The tests' certificate names localhost and 127.0.0.1; this name is another at that address.
_OTHER_NAME = "receiver.example"


@dataclass
class _Receiver:
    """An HTTPS receiver on 127.0.0.1 that answers 204 to every request on a connection once
    `open` is set, noting each request's `Host` and counting the connections it serves."""

    port: int = 0
    connections: int = 0
    names: list[str] = field(default_factory=list)
    open: asyncio.Event = field(default_factory=asyncio.Event)

    async def requests(self, count: int) -> None:
        async def arrived() -> bool:
            return len(self.names) >= count

        await eventually(arrived, within=5)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode().split("\r\n")[1:]
                fields = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
                await reader.readexactly(int(fields["content-length"]))
                self.names.append(fields["host"].partition(":")[0])
                await self.open.wait()
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def _receiving(context: ssl.SSLContext | None) -> AsyncIterator[_Receiver]:
    receiver = _Receiver()
    receiver.open.set()
    server = await asyncio.start_server(receiver.serve, "127.0.0.1", 0, ssl=context)
    receiver.port = server.sockets[0].getsockname()[1]
    async with server:
        yield receiver


def _target(name: str, port: int, scheme: str = "https") -> Target:
    address = ipaddress.ip_address("127.0.0.1")
    url = f"{scheme}://{name}:{port}/hooks"
    return Target(url, scheme, name, port, address, f"{name}:{port}")


@pytest.fixture
def trusting(certificate: tuple[ssl.SSLContext, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certificate[1])


async def test_a_tls_session_checked_for_one_name_is_not_used_for_another(
    certificate: tuple[ssl.SSLContext, Path], trusting: ssl.SSLContext
) -> None:
    async with _receiving(certificate[0]) as receiver, Receivers(trusting) as receivers:
        first = await post_event(receivers, _target("localhost", receiver.port), {}, b"{}", 5)
        again = await post_event(receivers, _target("localhost", receiver.port), {}, b"{}", 5)
        other = await post_event(receivers, _target(_OTHER_NAME, receiver.port), {}, b"{}", 5)

    assert first.delivered
    assert again.delivered
    assert other.status_code is None
    assert "CERTIFICATE_VERIFY_FAILED" in (other.error or "")
    assert receiver.names == ["localhost", "localhost"]  # the other name's event never left
    # The name's second event went on its kept connection. (The other name's connection
    # failed its handshake, which a connection must pass to be served and counted.)
    assert receiver.connections == 1


async def test_a_name_no_longer_kept_loses_its_connections_once_its_attempt_ends(
    certificate: tuple[ssl.SSLContext, Path], trusting: ssl.SSLContext
) -> None:
    """With one name kept, a delivery to another name drops the first name's client while
    an attempt of that name waits for its answer: the attempt still ends delivered."""
    async with _receiving(certificate[0]) as receiver, Receivers(trusting, names=1) as receivers:
        receiver.open.clear()
        waiting = asyncio.create_task(
            post_event(receivers, _target("localhost", receiver.port), {}, b"{}", 5)
        )
        await receiver.requests(1)
        other = asyncio.create_task(
            post_event(receivers, _target("127.0.0.1", receiver.port), {}, b"{}", 5)
        )
        await receiver.requests(2)
        receiver.open.set()
        answered = await asyncio.gather(waiting, other)
        again = await post_event(receivers, _target("localhost", receiver.port), {}, b"{}", 5)

    assert [a.status_code for a in (*answered, again)] == [204, 204, 204]
    assert receiver.names == ["localhost", "127.0.0.1", "localhost"]
    assert receiver.connections == 3  # localhost's client was closed: a new one, a new connection


async def test_names_opened_together_past_those_kept_are_each_delivered() -> None:
    """New names at once, past the names kept: each drops an older pool while the others
    open theirs, and none loses the pool it is about to use."""
    names = [f"{n}.example" for n in "abcde"]
    async with _receiving(None) as receiver, Receivers(names=2) as receivers:
        kept = [
            await post_event(receivers, _target(n, receiver.port, "http"), {}, b"{}", 5)
            for n in names[:2]
        ]
        together = await asyncio.gather(
            *(
                post_event(receivers, _target(n, receiver.port, "http"), {}, b"{}", 5)
                for n in names[2:]
            )
        )

    assert [a.status_code for a in (*kept, *together)] == [204] * 5
    assert sorted(receiver.names) == names


async def _garbling(
    context: ssl.SSLContext, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """A receiver that passes the handshake, reads the request, then sends a TLS record no key
    decrypts: what httpx does not wrap (anyio raises ssl.SSLError as it reads)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_side=True)
    request, shaken = b"", False
    try:
        while b"\r\n\r\n" not in request:
            try:
                if not shaken:
                    tls.do_handshake()
                    shaken = True
                request += tls.read(65536)
            except ssl.SSLWantReadError:
                writer.write(outgoing.read())
                await writer.drain()
                incoming.write(await reader.read(65536) or b"")
        writer.write(outgoing.read() + b"\x17\x03\x03\x00\x20" + os.urandom(32))
        await writer.drain()
        await reader.read()  # until the client gives up
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def test_a_receiver_that_garbles_its_tls_fails_the_attempt_not_the_activity(
    certificate: tuple[ssl.SSLContext, Path], trusting: ssl.SSLContext
) -> None:
    server = await asyncio.start_server(
        lambda r, w: _garbling(certificate[0], r, w), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    async with server, Receivers(trusting) as receivers:
        attempt = await post_event(receivers, _target("localhost", port), {}, b"{}", 5)

    assert attempt.status_code is None
    assert "SSLError" in (attempt.error or ""), attempt.error
