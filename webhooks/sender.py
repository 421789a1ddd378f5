"""One delivery attempt: POST the signed event to the checked address, read little, follow
no redirect; connections kept per receiver name."""

import asyncio
import ssl
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from ipaddress import IPv6Address
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx

from core import outbound
from webhooks.targets import Target

# Enough to see what a receiver said; a receiver cannot make us read (or store) more.
MAX_RESPONSE_BYTES = 4096
USER_AGENT = "instant-notifications-webhooks/1"
# The receiver names whose connections are kept; a name used less recently loses its pool.
# A pool drops an idle connection only when next used, so a name gone quiet holds its kept
# sockets until then: at most five per kept name.
KEPT_NAMES = 64


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str | None
    seconds: float

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def new_client(verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """One receiver name's client. No proxies from the environment: a proxy would connect to
    the name, not the checked address. No redirects: a receiver cannot send a delivery
    somewhere else. No cap on connections: the worker's slots bound them (each attempt one, a
    first attempt one per subscription of its tenant), and a cap made every attempt wait for
    the connections that hanging receivers held. `verify`: the certificates to trust, httpx's
    (certifi's) unless a deployment names its own."""
    return outbound.new_client(
        max_connections=None,
        max_keepalive_connections=5,
        trust_env=False,
        follow_redirects=False,
        verify=verify,
    )


@dataclass
class _Pool:
    client: httpx.AsyncClient
    users: int = 0
    dropped: bool = False


class Receivers:
    """The webhook worker's connections, a client per receiver name. A client files its
    connections by the address its URLs are pinned to, so one shared by all names would hand
    a TLS session whose certificate was checked for one name to a delivery to another name at
    that address; per name, a kept connection serves only the name it was checked for. The
    last `names` names used keep their clients; an older one is closed once no attempt uses it.
    """

    def __init__(self, verify: ssl.SSLContext | bool = True, names: int = KEPT_NAMES) -> None:
        # One context for every name: loading the trusted certificates costs milliseconds.
        self._verify = httpx.create_ssl_context(verify=verify, trust_env=False)
        self._names = names
        self._pools: OrderedDict[str, _Pool] = OrderedDict()

    @asynccontextmanager
    async def client(self, name: str) -> AsyncIterator[httpx.AsyncClient]:
        # Taken (its user counted) before anything awaits: no other attempt can close it.
        pool = self._pools.get(name)
        if pool is None:
            pool = self._pools[name] = _Pool(new_client(self._verify))
        self._pools.move_to_end(name)
        pool.users += 1
        try:
            await self._drop_oldest()
            yield pool.client
        finally:
            pool.users -= 1
            if pool.dropped and not pool.users:
                await pool.client.aclose()

    async def _drop_oldest(self) -> None:
        while len(self._pools) > self._names:
            _, oldest = self._pools.popitem(last=False)
            oldest.dropped = True
            if not oldest.users:
                await oldest.client.aclose()  # idle connections only: nothing to wait for

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.client.aclose()

    async def __aenter__(self) -> "Receivers":
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


async def post_event(
    receivers: Receivers, target: Target, headers: dict[str, str], body: bytes, seconds: float
) -> Attempt:
    started = time.perf_counter()
    try:
        # httpx's timeout bounds each read; this bounds a receiver that drips its answer.
        async with asyncio.timeout(seconds), receivers.client(target.host) as http:
            request = http.build_request(
                "POST",
                _pinned(target),
                content=body,
                headers={**headers, "host": target.authority, "user-agent": USER_AGENT},
                # TLS checks the certificate against the name; TCP goes to the checked address.
                extensions={"sni_hostname": target.host},
                timeout=seconds,
            )
            response = await http.send(request, stream=True)
            try:
                await _read_some(response)
            finally:
                await response.aclose()
    except TimeoutError:
        return Attempt(None, f"no answer within {seconds:g} s", time.perf_counter() - started)
    except (httpx.HTTPError, OSError) as exc:
        # OSError: httpx does not wrap every failure below it, e.g. a TLS record the receiver
        # garbled after the handshake (ssl.SSLError, raised by anyio as it reads). The
        # receiver's doing, so this attempt's failure, never the activity's.
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


def _pinned(target: Target) -> str:
    """The URL with its host replaced by the checked address."""
    parts = urlsplit(target.url)
    host = f"[{target.address}]" if isinstance(target.address, IPv6Address) else str(target.address)
    return urlunsplit(parts._replace(netloc=f"{host}:{target.port}"))
