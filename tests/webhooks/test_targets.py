"""Which webhook targets may be called: forms of URL, and the addresses that are refused."""

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from domain.webhooks import attempt_budget
from tests.support.webhooks import full_width
from webhooks.targets import (
    TargetRefused,
    Unresolvable,
    check_url,
    forbidden,
    lookup_within,
    resolve,
    validate,
)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.100.100.200",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.251",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:10.0.0.1",
        "::",
        "64:ff9b::a00:1",  # NAT64 to 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 to the metadata address
        "64:ff9b:1::a00:1",
        "::7f00:1",
        "::ffff:0:a00:1",  # IPv4-translated 10.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 from the metadata address
        "2002:a00:1::1",
        "fec0::1",
        "192.0.0.8",  # IPv4 dummy address: Python 3.11 counts it global
        "5f00::1",  # an SRv6 segment identifier, likewise
        "3fff::1",  # IPv6 documentation, likewise
    ],
)
def test_private_and_special_addresses_are_forbidden(address: str) -> None:
    assert forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not forbidden(ipaddress.ip_address(address))


def test_production_takes_https_only() -> None:
    check_url("https://hooks.example.no/x", https_only=True)
    with pytest.raises(TargetRefused, match="https"):
        check_url("http://hooks.example.no/x", https_only=True)


def test_port_zero_is_refused() -> None:
    """Nothing listens there: the connection would go to the scheme's port, the Host header
    would name port 0."""
    with pytest.raises(TargetRefused, match="port"):
        check_url("https://hooks.example.no:0/x", https_only=True)


async def test_an_ip_literal_needs_no_resolution_and_is_checked() -> None:
    with pytest.raises(TargetRefused, match="forbidden address"):
        await resolve("http://[::1]:8080/x", https_only=False, allow_private=False)
    allowed = await resolve("http://[::1]:8080/x", https_only=False, allow_private=True)
    assert (allowed.host, allowed.port, str(allowed.address)) == ("::1", 8080, "::1")


async def test_creation_with_private_targets_allowed_resolves_nothing() -> None:
    await validate("http://no-such-host.invalid/x", https_only=False, allow_private=True)
    with pytest.raises(TargetRefused, match="does not resolve"):
        await validate("http://no-such-host.invalid/x", https_only=False, allow_private=False)


# Hosts the resolver cannot even encode (an empty label, one over 63 characters), and one no
# name can be.
NOT_HOST_NAMES = [
    "https://a..example.com/hook",
    "https://.example.com/hook",
    f"https://{'x' * 64}.example.com/hook",
    "https://hooks.exa%20mple.no/hook",
]


@pytest.mark.parametrize("allow_private", [True, False])
@pytest.mark.parametrize("url", NOT_HOST_NAMES)
async def test_a_host_that_is_no_host_name_is_refused_saying_so(
    url: str, allow_private: bool
) -> None:
    with pytest.raises(TargetRefused, match="not a valid host name"):
        await validate(url, https_only=True, allow_private=allow_private)
    with pytest.raises(TargetRefused, match="not a valid host name"):
        await resolve(url, https_only=True, allow_private=allow_private)


async def test_an_international_host_is_called_by_its_ascii_name() -> None:
    """IDNA maps full-width letters to ASCII: the name the resolver looks up is the one TLS and
    the Host header name."""
    url = f"http://{full_width('localhost')}:8080/x"

    target = await resolve(url, https_only=False, allow_private=True)

    assert (target.host, target.authority, str(target.address)) == (
        "localhost",
        "localhost:8080",
        "127.0.0.1",
    )


WAIT = 0.5


@pytest.fixture
def dead_names(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names a lookup was asked for; one under `.unanswered.test` holds its thread, as a
    name whose servers never answer does, until the test ends. A delivery waits 0.5 s
    (`WAIT`)."""
    released = threading.Event()
    asked: list[str] = []
    real = socket.getaddrinfo

    def unanswered(host: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        if host.endswith(".unanswered.test"):
            released.wait(30)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", unanswered)
    yield asked
    released.set()


async def test_names_whose_servers_never_answer_leave_the_workers_own_threads_free(
    dead_names: list[str],
) -> None:
    """Each lookup holds its thread long after the delivery stopped waiting for it; the store's
    writes, which run in the event loop's default threads, must not wait behind them."""
    # More lookups than the default executor has threads on any machine (at most 32).
    names = [f"https://h{n}.unanswered.test/hooks" for n in range(40)]
    results = await asyncio.gather(
        *(resolve(name, https_only=True, allow_private=False, within=WAIT) for name in names),
        return_exceptions=True,
    )
    write = await asyncio.wait_for(asyncio.to_thread(threading.get_ident), timeout=5)

    assert all(isinstance(result, Unresolvable) for result in results)
    assert write != threading.get_ident()


async def test_one_tenants_dead_names_leave_the_lookups_of_others_their_threads(
    dead_names: list[str],
) -> None:
    """Every delivery to a dead name waits for one lookup of it, not a thread each."""
    dead = [
        resolve(
            "https://dead.unanswered.test/hooks", https_only=True, allow_private=False, within=WAIT
        )
        for _ in range(100)  # more deliveries than there are threads
    ]
    results = await asyncio.gather(*dead, return_exceptions=True)
    alive = await resolve("http://localhost:9/hooks", https_only=False, allow_private=True)

    assert all(isinstance(result, Unresolvable) for result in results)
    assert dead_names.count("dead.unanswered.test") == 1
    assert alive.host == "localhost"


@pytest.mark.parametrize("attempt_seconds", [0.5, 1.0, 3.0, 10.0, 60.0])
def test_an_attempts_budget_covers_its_lookup_and_its_request(attempt_seconds: float) -> None:
    """A lookup whose servers never answer, then a receiver that never answers, must end
    within the activity's timeout: past it, the activity's retries would repeat the attempt."""
    waits = lookup_within(attempt_seconds) + attempt_seconds
    assert attempt_budget(attempt_seconds).total_seconds() > waits
