"""HAProxy in front of the tests' Temporal dev server: server TLS, mutual TLS, and TLS with an
API key that must arrive as a bearer token.

Why HAProxy and not stunnel or socat: a gRPC client (the SDK's tonic) insists on HTTP/2 being
chosen by ALPN in the TLS handshake, and Debian's stunnel (5.68) and socat (1.7.4) offer no
ALPN, so the client refuses them ("H2NotNegotiated"). HAProxy terminates TLS at the TCP level
with `alpn h2`, and in HTTP/2 mode can check a request header, as an API gateway or Temporal
Cloud does. `make test` installs it where missing (scripts/test-haproxy.sh).
"""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import free_port
from tests.support.certificates import Pki
from tests.support.machine import installed

_CONFIG = """
global
  log stderr format raw local0 warning
defaults
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend tls
  mode tcp
  bind 127.0.0.1:{tls} ssl crt {bundle} alpn h2
  default_backend temporal
frontend mutual
  mode tcp
  bind 127.0.0.1:{mutual} ssl crt {bundle} alpn h2 ca-file {ca} verify required
  default_backend temporal
frontend api_key
  mode http
  bind 127.0.0.1:{api_key} ssl crt {bundle} alpn h2
  http-request return status 200 hdr content-type application/grpc hdr grpc-status 16 hdr grpc-message unauthenticated unless {{ req.hdr(authorization) -m str "Bearer {key}" }}
  default_backend temporal_h2
backend temporal
  mode tcp
  server dev {backend}
backend temporal_h2
  mode http
  server dev {backend} proto h2
"""  # noqa: E501


@dataclass(frozen=True)
class Terminator:
    tls: str
    mutual: str
    api_key: str
    key: str


def haproxy() -> str:
    return installed("haproxy", "HAProxy", "TLS")


@contextlib.asynccontextmanager
async def tls_terminator(backend: str, pki: Pki, directory: Path) -> AsyncIterator[Terminator]:
    """HAProxy on three free ports before `backend` (host:port of a plain Temporal)."""
    ports = {"tls": free_port(), "mutual": free_port(), "api_key": free_port()}
    key = "test-api-key-" + os.urandom(8).hex()
    bundle = directory / "haproxy.pem"
    bundle.write_bytes(pki.server_cert.read_bytes() + pki.server_key.read_bytes())
    config = directory / "haproxy.cfg"
    config.write_text(_CONFIG.format(bundle=bundle, ca=pki.ca, backend=backend, key=key, **ports))
    log = (directory / "haproxy.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        haproxy(), "-db", "-f", str(config), stdout=log, stderr=asyncio.subprocess.STDOUT
    )
    try:
        for port in ports.values():
            await _listening(port, process)
        yield Terminator(**{name: f"127.0.0.1:{port}" for name, port in ports.items()}, key=key)
    finally:
        process.terminate()
        await process.wait()
        log.close()


async def _listening(port: int, process: asyncio.subprocess.Process, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        if process.returncode is not None:
            raise RuntimeError(f"HAProxy exited with {process.returncode}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"HAProxy does not listen on {port}")
        await asyncio.sleep(0.05)
