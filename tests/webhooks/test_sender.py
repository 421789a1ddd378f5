"""One delivery attempt over TLS: the receiver's certificate is checked for the URL's name."""

import asyncio
import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from webhooks.sender import new_client, post_event
from webhooks.targets import Target

# The tests' certificate names localhost and 127.0.0.1; this name is another at that address.
_OTHER_NAME = "receiver.example"


@asynccontextmanager
async def _receiver(context: ssl.SSLContext, names: list[str]) -> AsyncIterator[int]:
    """An HTTPS receiver on 127.0.0.1 that answers 204 to every request on a connection,
    noting each one's `Host`."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode().split("\r\n")[1:]
                fields = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
                await reader.readexactly(int(fields["content-length"]))
                names.append(fields["host"].partition(":")[0])
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    async with server:
        yield server.sockets[0].getsockname()[1]


def _target(name: str, port: int) -> Target:
    address = ipaddress.ip_address("127.0.0.1")
    return Target(f"https://{name}:{port}/hooks", "https", name, port, address, f"{name}:{port}")


async def test_a_tls_session_checked_for_one_name_is_not_used_for_another(
    certificate: tuple[ssl.SSLContext, Path],
) -> None:
    server_context, trusted = certificate
    names: list[str] = []
    client_context = ssl.create_default_context(cafile=trusted)
    async with _receiver(server_context, names) as port, new_client(client_context) as http:
        first = await post_event(http, _target("localhost", port), {}, b"{}", 5)
        again = await post_event(http, _target("localhost", port), {}, b"{}", 5)
        other = await post_event(http, _target(_OTHER_NAME, port), {}, b"{}", 5)
    assert first.delivered
    assert again.delivered
    assert other.status_code is None
    assert "CERTIFICATE_VERIFY_FAILED" in (other.error or "")
    assert names == ["localhost", "localhost"]  # the other name's event never left
