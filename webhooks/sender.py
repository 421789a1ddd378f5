"""One delivery attempt: POST the signed event to the checked address, read little, follow
no redirect."""

import asyncio
import ssl
import time
from dataclasses import dataclass
from ipaddress import IPv6Address
from urllib.parse import urlsplit, urlunsplit

import httpx

from core import outbound
from webhooks.targets import Target

# Enough to see what a receiver said; a receiver cannot make us read (or store) more.
MAX_RESPONSE_BYTES = 4096
USER_AGENT = "instant-notifications-webhooks/1"


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str | None
    seconds: float

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def new_client(verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """No proxies from the environment: a proxy would connect to the name, not the checked
    address. No redirects: a receiver cannot send a delivery somewhere else. No cap on
    connections: the worker's slots bound them (each attempt one, a first attempt one per
    subscription of its tenant), and a cap shared by all receivers made every tenant's attempt
    wait for the connections that one tenant's hanging receivers held. `verify`: the
    certificates to trust, httpx's (certifi's) unless a deployment names its own."""
    return outbound.new_client(
        max_connections=None,
        max_keepalive_connections=50,
        trust_env=False,
        follow_redirects=False,
        verify=verify,
    )


async def post_event(
    http: httpx.AsyncClient, target: Target, headers: dict[str, str], body: bytes, seconds: float
) -> Attempt:
    started = time.perf_counter()
    request = http.build_request(
        "POST",
        _pinned(target),
        content=body,
        headers={
            **headers,
            **_connection(target),
            "host": target.authority,
            "user-agent": USER_AGENT,
        },
        # TLS checks the certificate against the name, while TCP goes to the checked address.
        extensions={"sni_hostname": target.host},
        timeout=seconds,
    )
    try:
        # httpx's timeout bounds each read; this bounds a receiver that drips its answer.
        async with asyncio.timeout(seconds):
            response = await http.send(request, stream=True)
            try:
                await _read_some(response)
            finally:
                await response.aclose()
    except TimeoutError:
        return Attempt(None, f"no answer within {seconds:g} s", time.perf_counter() - started)
    except httpx.HTTPError as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}"[:200], time.perf_counter() - started)
    code = response.status_code
    error = None if 200 <= code < 300 else f"HTTP {code}"
    return Attempt(code, error, time.perf_counter() - started)


async def _read_some(response: httpx.Response) -> None:
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= MAX_RESPONSE_BYTES:
            return


def _connection(target: Target) -> dict[str, str]:
    """A TLS connection is closed after its one request. The pool files connections by the
    address the URL is pinned to, so it would hand one name's session, whose certificate was
    checked for that name, to the next delivery to any other name at that address."""
    return {"connection": "close"} if target.scheme == "https" else {}


def _pinned(target: Target) -> str:
    """The URL with its host replaced by the checked address."""
    parts = urlsplit(target.url)
    host = f"[{target.address}]" if isinstance(target.address, IPv6Address) else str(target.address)
    return urlunsplit(parts._replace(netloc=f"{host}:{target.port}"))
