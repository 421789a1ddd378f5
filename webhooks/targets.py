"""Which webhook targets may be called: the URL's form, and the addresses its host resolves to.

Checked when a subscription is made and again at every delivery, on the addresses that the
delivery then connects to, so a name that later resolves elsewhere (DNS rebinding) cannot reach
the service's own network.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048
_RESOLVE_SECONDS = 5.0
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
    """A checked URL and the address to connect to; `host` stays the name for Host and SNI."""

    url: str
    scheme: str
    host: str
    port: int
    address: IpAddress


def check_url(url: str, *, https_only: bool) -> SplitResult:
    """The URL's form: absolute http(s), a host, no credentials, https only where required."""
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
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("The URL may not carry credentials.")
    return parts


def forbidden(address: IpAddress) -> bool:
    """Loopback, private, link-local, multicast, reserved and metadata addresses."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address in _METADATA or address.is_multicast or not address.is_global


async def resolve(url: str, *, https_only: bool, allow_private: bool) -> Target:
    """Check the URL and resolve its host; every address it resolves to must be allowed."""
    parts = check_url(url, https_only=https_only)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _addresses(host, port)
    refused = [a for a in addresses if forbidden(a)]
    if refused and not allow_private:
        raise TargetRefused(f"The URL's host resolves to a forbidden address ({refused[0]}).")
    return Target(url, parts.scheme, host, port, addresses[0])


async def validate(url: str, *, https_only: bool, allow_private: bool) -> None:
    """The check when a subscription is made; with private targets allowed there is nothing
    to resolve for (a name that does not resolve fails its deliveries, and is retried)."""
    if allow_private:
        check_url(url, https_only=https_only)
    else:
        await resolve(url, https_only=https_only, allow_private=False)


async def _addresses(host: str, port: int) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        async with asyncio.timeout(_RESOLVE_SECONDS):
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
    except (OSError, TimeoutError) as exc:
        raise Unresolvable(f"The URL's host {host} does not resolve.") from exc
    # An IPv6 address may carry a zone (fe80::1%eth0); the address part decides.
    found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not found:
        raise Unresolvable(f"The URL's host {host} does not resolve.")
    return list(dict.fromkeys(found))
