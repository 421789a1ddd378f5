"""Webhooks beside a noisy tenant: how long after its order's 201 a quiet tenant's first event
reaches its receiver, alone and while another tenant's ten receivers never answer."""

import asyncio
import time
import uuid
from typing import Any

from bench.receiver import Receiver
from bench.scenarios import WEBHOOKS_PATH, Context, order_body, place, subscribe
from bench.targets import cpu_seconds, distribution
from devstack.token import auth_headers

NOISY_PER_SECOND = 2.0
QUIET_EVERY_SECONDS = 2.0


async def measure(ctx: Context, seconds: float) -> dict[str, Any]:
    """The quiet tenant alone for a third of `seconds`, then beside the noisy tenant for
    `seconds`, its lags split in halves: a lag that grows with the noisy tenant's backlog shows
    as a second half later than the first."""
    tag = uuid.uuid4().hex[:8]
    noisy, quiet = (auth_headers(ctx.settings, f"{name}{tag}") for name in ("noisy", "quiet"))
    async with Receiver().running() as answering, Receiver(hang=True).running() as hanging:
        limit = ctx.settings.webhook_limit_per_tenant
        subscriptions = [await subscribe(ctx, noisy, f"{hanging.url}?n={n}") for n in range(limit)]
        await subscribe(ctx, quiet, answering.url)
        alone = await _lags(ctx, quiet, answering, seconds / 3)
        spent = {name: cpu_seconds(pid) for name, pid in ctx.pids.items()}
        started = time.perf_counter()
        noise = asyncio.create_task(_orders(ctx, noisy, seconds))
        beside = await _lags(ctx, quiet, answering, seconds)
        await noise
        elapsed = time.perf_counter() - started
        busy = {n: round(100 * (cpu_seconds(p) - spent[n]) / elapsed) for n, p in ctx.pids.items()}
        hung = hanging.requests
        # Deleted, the noisy tenant's retries end at their next attempt.
        for subscription in subscriptions:
            await ctx.http.delete(f"{ctx.api}{WEBHOOKS_PATH}/{subscription}", headers=noisy)
    half = len(beside) // 2
    return {
        "noisy_orders_per_second": NOISY_PER_SECOND,
        "noisy_subscriptions": limit,
        "hanging_requests": hung,
        "alone": distribution(alone),
        "beside_first_half": distribution(beside[:half]),
        "beside_second_half": distribution(beside[half:]),
        "cpu_percent_beside": busy,  # of one core, by process
    }


async def _lags(
    ctx: Context, headers: dict[str, str], receiver: Receiver, seconds: float
) -> list[float]:
    """One order every QUIET_EVERY_SECONDS; from each 201 to its first event, in ms."""
    waits = []
    for _ in range(max(2, int(seconds / QUIET_EVERY_SECONDS))):
        started = time.perf_counter()
        shipment_id = await place(ctx, headers, order_body())
        answered = time.perf_counter()
        waits.append(asyncio.create_task(_lag(receiver, shipment_id, answered)))
        await asyncio.sleep(max(0.0, started + QUIET_EVERY_SECONDS - time.perf_counter()))
    return list(await asyncio.gather(*waits))


async def _lag(receiver: Receiver, shipment_id: str, answered: float) -> float:
    arrived = await receiver.arrival(shipment_id, "shipment.accepted", within=120)
    return (arrived - answered) * 1000


async def _orders(ctx: Context, headers: dict[str, str], seconds: float) -> None:
    """The noisy tenant's orders at NOISY_PER_SECOND for `seconds`."""
    start = time.perf_counter()
    for n in range(int(seconds * NOISY_PER_SECOND)):
        await asyncio.sleep(max(0.0, start + n / NOISY_PER_SECOND - time.perf_counter()))
        await place(ctx, headers, order_body())
