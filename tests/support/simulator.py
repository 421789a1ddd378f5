"""What the gateway simulator received."""

from typing import Any

import httpx

from tests.support.bodies import reference_of


async def received(simulator: httpx.AsyncClient, **filters: str) -> list[dict[str, Any]]:
    """The messages the simulator holds, filtered by `to` or `reference`."""
    found: list[dict[str, Any]] = (await simulator.get("/messages", params=filters)).json()
    return found


async def received_for(simulator: httpx.AsyncClient, org: str, key: str) -> list[dict[str, Any]]:
    """The messages handed over for a tenant's idempotency key."""
    return await received(simulator, reference=reference_of(org, key))
