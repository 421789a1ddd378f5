"""Bounded polling: wait for something that happens after an answer, fail after a limit."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from tests.support.answers import recipient_status
from tests.support.routes import SHIPMENT

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], within: float = 15.0, interval: float = 0.05
) -> T:
    """Poll until `probe` returns something truthy; fail after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


async def completed_manifest(
    api: httpx.AsyncClient, headers: dict[str, str], shipment_id: str, within: float = 15.0
) -> dict[str, Any]:
    """The shipment's manifest once its order is completed. An API that does not answer yet
    (restarting, say) is asked again."""

    async def probe() -> dict[str, Any] | None:
        try:
            response = await api.get(f"{SHIPMENT}/{shipment_id}", headers=headers)
        except httpx.HTTPError:
            return None
        body: dict[str, Any] = response.json() if response.status_code == 200 else {}
        return body if body.get("status") == "Order_Completed" else None

    return await eventually(probe, within)


async def final_status(
    api: httpx.AsyncClient, headers: dict[str, str], shipment_id: str, within: float = 15.0
) -> str:
    """The recipient's status once the order is completed."""
    return recipient_status(await completed_manifest(api, headers, shipment_id, within))
