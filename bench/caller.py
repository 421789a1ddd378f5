"""The benchmark's caller of the service's HTTP API: aiohttp's client.

The caller stands for the service's callers, whose HTTP stacks are theirs, not ours; like the
engine floor's caller (the Temporal client, the least a Temporal caller can use), it should add
as little of its own as it can. httpx's client, which the service itself uses, costs about four
times aiohttp's per exchange on this machine (`bench.http_cost`); as the caller it put 1 to 2 ms
into each order's way in and 2 ms into its way back (docs/performance.md)."""

from collections.abc import Mapping
from typing import Any

import aiohttp

# As many connections as open-loop load keeps in flight: a request never waits for one.
_CONNECTIONS = 2000


def session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=_CONNECTIONS),
        timeout=aiohttp.ClientTimeout(total=30),
    )


async def post(
    http: aiohttp.ClientSession, url: str, body: Any, headers: Mapping[str, str] | None = None
) -> int:
    """POST `body` as JSON and read the whole answer; its status."""
    async with http.post(url, json=body, headers=headers) as response:
        await response.read()
        return response.status
