"""Which webhook targets may be called: the URL's form, and the addresses its host resolves to.

Checked when a subscription is made and again at every delivery, on the addresses that the
delivery then connects to, so a name that later resolves elsewhere (DNS rebinding) cannot reach
the service's own network.
"""

import asyncio
import functools
import ipaddress
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048
_MAX_NAME_LENGTH = 253
# A label of a name as DNS carries it; the underscore is not in RFC 1123, but names have it.
_LABEL = re.compile(r"[a-z0-9_-]{1,63}", re.IGNORECASE)
_NOT_A_NAME = (
    "The URL's host is not a valid host name: labels of 1 to 63 letters, digits, hyphens or"
    f" underscores, joined by single dots, at most {_MAX_NAME_LENGTH} characters in all."
)
_RESOLVE_SECONDS = 5.0  # the longest wait for a lookup
# Threads of their own: a name whose servers never answer holds its thread for the resolver's
# own timeouts (glibc: 5 s, twice, per search domain) after the wait here has ended. In the
# event loop's default threads it would hold up the store writes of every order of the worker.
# One lookup per name at a time, shared by every delivery that waits for it: a tenant's dead
# names hold a thread each, however many events they are sent.
_RESOLVERS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="webhook-dns")
_LOOKUPS: dict[tuple[asyncio.AbstractEventLoop, str, int], asyncio.Future[list[Any]]] = {}
# RFC 6052's well-known prefix: the IPv4 address in the last 32 bits. Python counts it global.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Python 3.11 counts these global, but no host on the internet is at one: NAT64's local-use
# prefix (RFC 8215), the IPv4-translated (RFC 2765), the deprecated IPv4-compatible (RFC 4291)
# and site-local (RFC 3879) addresses, IETF protocol assignments (RFC 6890, 192.0.0.8 a dummy
# address), SRv6 segment identifiers (RFC 9602) and IPv6 documentation (RFC 9637).
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        *("64:ff9b:1::/48", "::ffff:0:0:0/96", "::/96", "fec0::/10"),
        *("192.0.0.0/24", "5f00::/16", "3fff::/20"),
    )
)
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Metadata services of the clouds; most are link-local or private already, these are not all.
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254")
)


class TargetRefused(ValueError):
    """The URL may not be called; the message says why, for the caller's problem document."""


class Unresolvable(TargetRefused):
    """The host does not resolve now: refused at creation, retried at delivery."""


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to. `host` is the name, in ASCII, for TLS's
    SNI; `authority` the `Host` header (the name and the URL's port, if it names one)."""

    url: str
    scheme: str
    host: str
    port: int
    address: IpAddress
    authority: str


def check_url(url: str, *, https_only: bool) -> tuple[SplitResult, str]:
    """The URL's form: absolute http(s), a host that is an address or a name DNS can carry, no
    credentials, https only where required; its parts, and its host as `_host_name` gives it."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port out of range)
    except ValueError as exc:
        raise TargetRefused("The URL cannot be parsed.") from exc
    allowed = ("https",) if https_only else ("http", "https")
    if parts.scheme not in allowed:
        raise TargetRefused(f"The URL's scheme must be {' or '.join(allowed)}.")
    if not parts.hostname:
        raise TargetRefused("The URL has no host.")
    if parts.port == 0:
        raise TargetRefused("The URL's port must be 1 to 65535.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("The URL may not carry credentials.")
    return parts, _host_name(parts.hostname)


def _host_name(host: str) -> str:
    """The host as the resolver, TLS and the `Host` header take it: an address as written, a
    name in ASCII (an international one in its IDNA form, as the standard library's resolver
    and TLS encode it). A name without that form, or one DNS cannot carry, could never be
    called: it is refused."""
    if _address(host) is not None:
        return host
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError as exc:  # an empty label, one over 63 characters, a forbidden character
        raise TargetRefused(_NOT_A_NAME) from exc
    labels = name.removesuffix(".").split(".")
    if len(name) > _MAX_NAME_LENGTH or not all(_LABEL.fullmatch(label) for label in labels):
        raise TargetRefused(_NOT_A_NAME)
    return name


def forbidden(address: IpAddress) -> bool:
    """Loopback, private, link-local, multicast, reserved and metadata addresses, and an IPv6
    address that carries a forbidden IPv4 one or that only a local network routes."""
    if isinstance(address, ipaddress.IPv6Address):
        address = _carried_ipv4(address) or address
    if any(address in network for network in _NOT_GLOBAL):
        return True
    return address in _METADATA or address.is_multicast or not address.is_global


def _carried_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address that a mapped, a NAT64 (a gateway translates it to the IPv4 network
    behind it) or a 6to4 address reaches: that address decides."""
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour


def lookup_within(attempt_seconds: float) -> float:
    """How long a delivery attempt waits for its lookup: the attempt's time bounds the lookup
    and the request each (domain.webhooks.attempt_budget)."""
    return min(_RESOLVE_SECONDS, attempt_seconds)


async def resolve(
    url: str, *, https_only: bool, allow_private: bool, within: float = _RESOLVE_SECONDS
) -> Target:
    """Check the URL and resolve its host, waiting `within` seconds at most; every address it
    resolves to must be allowed."""
    parts, host = check_url(url, https_only=https_only)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _addresses(host, port, within)
    refused = [a for a in addresses if forbidden(a)]
    if refused and not allow_private:
        raise TargetRefused(f"The URL's host resolves to a forbidden address ({refused[0]}).")
    authority = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        authority = f"{authority}:{parts.port}"
    return Target(url, parts.scheme, host, port, addresses[0], authority)


async def validate(url: str, *, https_only: bool, allow_private: bool) -> None:
    """The check when a subscription is made; with private targets allowed there is nothing
    to resolve for (a name that does not resolve fails its deliveries, and is retried)."""
    if allow_private:
        check_url(url, https_only=https_only)
    else:
        await resolve(url, https_only=https_only, allow_private=False)


def _address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def _addresses(host: str, port: int, within: float) -> list[IpAddress]:
    address = _address(host)
    if address is not None:
        return [address]
    try:
        async with asyncio.timeout(within):
            infos = await asyncio.shield(_lookup(host, port))
    except (OSError, TimeoutError) as exc:
        raise Unresolvable(f"The URL's host {host} does not resolve.") from exc
    # An IPv6 address may carry a zone (fe80::1%eth0); the address part decides.
    found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not found:
        raise Unresolvable(f"The URL's host {host} does not resolve.")
    return list(dict.fromkeys(found))


def _lookup(host: str, port: int) -> asyncio.Future[list[Any]]:
    """The name's lookup under way, or a new one; it runs to its end whoever stops waiting."""
    loop = asyncio.get_running_loop()
    key = (loop, host, port)
    pending = _LOOKUPS.get(key)
    if pending is None:
        lookup = functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        pending = _LOOKUPS[key] = loop.run_in_executor(_RESOLVERS, lookup)
        pending.add_done_callback(lambda _: _LOOKUPS.pop(key, None))
    return pending
