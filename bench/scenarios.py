"""The service's own figures: orders through the API, report-to-visible latency, Failed_TTL
lateness, worker memory with many waiting shipments, and the pushes: final status to webhook
and to a waiting read, and orders beside 500 waiting reads."""

import asyncio
import functools
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile

from bench import caller
from bench.receiver import Receiver
from bench.targets import Target, distribution, one_at_a_time
from core.config import Settings
from devstack.services import REPORT_ROUTE
from devstack.token import auth_headers
from domain.ids import client_reference, workflow_id
from domain.orders import MAX_SMS_TTL_SECONDS, NotificationInput, SmsMessage, Timing
from domain.statuses import ShipmentStatus, is_final
from gateways import standard_webhooks
from store import shipments
from store.models import Shipment
from workflows.instant_notification import InstantNotificationWorkflow

ORDER_PATH = "/notifications/api/v1/future/orders/instant/sms"
SHIPMENT_PATH = "/notifications/api/v1/future/shipment"
WEBHOOKS_PATH = "/notifications/api/v1/future/webhooks"
SILENT = "+4799990008"  # the simulator never reports on it


@dataclass
class Context:
    settings: Settings
    api: str
    http: httpx.AsyncClient
    client: Client
    engine: Engine
    pids: dict[str, int]  # the stack's processes by name
    connection: ClientConfigProfile  # how every process of the stack reaches Temporal
    caller: aiohttp.ClientSession  # the orders' (bench.caller)


def service(ctx: Context) -> Target:
    """Orders through the API, one tenant of many each, as the service's callers place them."""
    tenants = _tenants(ctx.settings)
    url = f"{ctx.api}{ORDER_PATH}"

    async def send(i: int) -> str | None:
        org, headers = tenants[i % len(tenants)]
        order = order_body()
        status = await caller.post(ctx.caller, url, order, headers)
        return workflow_id(org, order["idempotencyId"]) if status == 201 else None

    return Target("service", send, ctx.pids, client=ctx.client)


def _tenants(settings: Settings, count: int = 100) -> list[tuple[str, dict[str, str]]]:
    """Tenants and their tokens' headers. Many, so the per-tenant rate limit never decides a
    benchmark."""
    return [(org, auth_headers(settings, org)) for org in (f"bench{n}" for n in range(count))]


def order_body(phone: str | None = None, ttl: int = MAX_SMS_TTL_SECONDS) -> dict[str, Any]:
    """An SMS order; its TTL by default the longest, so no cancelled timer of an earlier phase
    fires while a later one is measured."""
    return {
        "idempotencyId": uuid.uuid4().hex,
        "recipientSms": {
            "phoneNumber": phone or f"+479{random.randint(0, 8_999_999):07d}",
            "timeToLiveInSeconds": ttl,
            "smsSettings": {"body": "Your code is 123456"},
        },
    }


async def report_to_visible(ctx: Context, count: int) -> dict[str, float]:
    """From posting a delivery report to GET showing the new status, one shipment at a time."""
    latencies = []
    for n in range(count):
        order = await _silent_order(ctx, f"bench{n}")
        started = time.perf_counter()
        await _report_delivered(ctx, order.reference)
        delivered = functools.partial(_shows_delivered, ctx, order.url, order.headers)
        await _until(delivered, 30, 0.002, f"{order.url} did not show as delivered")
        latencies.append((time.perf_counter() - started) * 1000)
    return distribution(latencies)


async def _shows_delivered(ctx: Context, url: str, headers: dict[str, str]) -> bool:
    manifest = (await ctx.http.get(url, headers=headers)).json()
    return bool(manifest["recipients"][0]["status"] == "SMS_Delivered")


async def ttl_lateness(ctx: Context, count: int, ttl: int = 3, grace: int = 1) -> dict[str, float]:
    """How long after expiry + grace Failed_TTL is recorded, for shipments started together."""
    orders = [_silent_input(f"ttl{n}", ttl, grace) for n in range(count)]
    handles = [await _start(ctx, data) for data in orders]
    await asyncio.gather(*(h.result() for h in handles))
    lateness = []
    with Session(ctx.engine) as session:
        for data in orders:
            row = shipments.find_by_key(session, data.org, data.idempotency_id)
            if row is None or row.status != "SMS_Failed_TTL":
                raise RuntimeError(f"shipment {data.idempotency_id} did not end in Failed_TTL")
            deadline = row.created_at + timedelta(seconds=ttl + grace)
            lateness.append((row.last_update - deadline).total_seconds() * 1000)
    return distribution(lateness)


async def worker_memory(ctx: Context, count: int) -> dict[str, float]:
    """Worker RSS before and after `count` shipments are left waiting for reports."""
    before = _rss_mib(ctx.pids["worker"])
    gate = asyncio.Semaphore(50)

    async def one(n: int) -> None:
        async with gate:  # a tenant each, so no recipient limit refuses one
            await _start(ctx, _silent_input(f"mem{n}", 86_400, 60))

    await asyncio.gather(*(one(n) for n in range(count)))

    # A start is taken before its handover ran: wait until every one of them waits for reports.
    async def all_waiting() -> bool:
        return await asyncio.to_thread(_waiting, ctx.engine) == count

    await _until(all_waiting, 1800, 1.0, "the waiting shipments were not all handed over")
    await asyncio.sleep(5)
    return {
        "waiting_shipments": count,
        "rss_before_mib": before,
        "rss_after_mib": _rss_mib(ctx.pids["worker"]),
    }


def _waiting(engine: Engine) -> int:
    with Session(engine) as session:
        query = select(func.count()).where(
            col(Shipment.org).startswith("mem"), col(Shipment.status) == ShipmentStatus.SMS_ACCEPTED
        )
        return session.exec(query).one()


def _silent_input(org: str, ttl: int, grace: int) -> NotificationInput:
    return NotificationInput(
        org=org,
        idempotency_id=uuid.uuid4().hex,
        request_id=str(uuid.uuid4()),
        fingerprint="b",
        timing=Timing(
            ttl_seconds=ttl, grace_seconds=grace, handover_seconds=9, attempt_seconds=4.5
        ),
        sms=SmsMessage(SILENT, "Bench", "Your code is 123456"),
    )


async def _start(ctx: Context, data: NotificationInput) -> Any:
    return await ctx.client.start_workflow(
        InstantNotificationWorkflow.run,
        data,
        id=workflow_id(data.org, data.idempotency_id),
        task_queue=ctx.settings.temporal_task_queue,
    )


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def webhook_latency(ctx: Context, count: int) -> dict[str, float]:
    """From the final status in the store to the shipment.completed webhook at a local
    receiver, one shipment at a time (each tenant with one subscription)."""
    latencies = []
    async with Receiver().running() as receiver:
        for n in range(count):
            await subscribe(ctx, auth_headers(ctx.settings, f"push{n}"), receiver.url)
            order = await _silent_order(ctx, f"push{n}")
            final = asyncio.create_task(_final_seen(ctx, order.shipment_id))
            await _report_delivered(ctx, order.reference)
            seen = await final
            arrived = await receiver.arrival(order.shipment_id, "shipment.completed")
            latencies.append((arrived - seen) * 1000)
    return distribution(latencies)


async def long_poll_latency(ctx: Context, count: int) -> dict[str, float]:
    """From the final status in the store to the answer of a GET that waited for it."""
    latencies = []
    for n in range(count):
        order = await _silent_order(ctx, f"wait{n}")
        waiting = asyncio.create_task(
            ctx.http.get(order.url, params={"waitSeconds": 30}, headers=order.headers)
        )
        await asyncio.sleep(0.05)  # the request is waiting
        final = asyncio.create_task(_final_seen(ctx, order.shipment_id))
        await _report_delivered(ctx, order.reference)
        answer = await waiting
        answered = time.perf_counter()
        if answer.json()["status"] != "Order_Completed":
            raise RuntimeError("the waiting read answered before the status was final")
        latencies.append((answered - await final) * 1000)
    return distribution(latencies)


async def orders_beside_waiters(ctx: Context, count: int, waiters: int = 500) -> dict[str, Any]:
    """Order latency one at a time, alone and with `waiters` reads waiting on other shipments."""
    alone = await one_at_a_time(service(ctx), count)
    waited_on = await _silent_order(ctx, "waiters")
    stop = asyncio.Event()

    async def wait_again() -> None:
        while not stop.is_set():
            params = {"waitSeconds": 30}
            await ctx.http.get(waited_on.url, params=params, headers=waited_on.headers, timeout=60)

    tasks = [asyncio.create_task(wait_again()) for _ in range(waiters)]
    await asyncio.sleep(5)  # every read is waiting, also on a busy machine
    beside = await one_at_a_time(service(ctx), count)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"waiters": waiters, "alone": alone, "with_waiters": beside}


@dataclass(frozen=True)
class _Silent:
    """A tenant's order to the number the simulator never reports on, handed over."""

    headers: dict[str, str]  # the tenant's
    shipment_id: str
    reference: str  # what a report names it by
    url: str  # its manifest


async def _silent_order(ctx: Context, org: str) -> _Silent:
    headers = auth_headers(ctx.settings, org)
    order = order_body(SILENT, ttl=3600)
    shipment_id = await place(ctx, headers, order)
    reference = client_reference(workflow_id(org, order["idempotencyId"]))
    return _Silent(headers, shipment_id, reference, f"{ctx.api}{SHIPMENT_PATH}/{shipment_id}")


async def place(ctx: Context, headers: dict[str, str], order: dict[str, Any]) -> str:
    """The order, answered 201: its shipment id."""
    created = await ctx.http.post(f"{ctx.api}{ORDER_PATH}", json=order, headers=headers)
    if created.status_code != 201:
        raise RuntimeError(f"order refused: {created.status_code} {created.text}")
    shipment_id: str = created.json()["notification"]["shipmentId"]
    return shipment_id


async def subscribe(ctx: Context, headers: dict[str, str], url: str) -> str:
    """A webhook subscription of the tenant the headers speak for: its id."""
    created = await ctx.http.post(f"{ctx.api}{WEBHOOKS_PATH}", json={"url": url}, headers=headers)
    if created.status_code != 201:
        raise RuntimeError(f"subscription refused: {created.status_code}")
    subscription: str = created.json()["id"]
    return subscription


async def _report_delivered(ctx: Context, reference: str) -> None:
    key = standard_webhooks.secret_key(ctx.settings.delivery_report_secret)
    body = f'{{"reference": "{reference}", "status": "DELIVRD", "channel": "SMS"}}'.encode()
    headers = standard_webhooks.signed_headers(key, f"msg_{uuid.uuid4().hex}", body)
    await ctx.http.post(_report_url(ctx), content=body, headers=headers)


async def _final_seen(ctx: Context, shipment_id: str) -> float:
    """perf_counter() when the shipment's final status is first visible in the store (read
    every millisecond: the benchmark's own clock of "the status is final")."""

    def written() -> bool:
        with Session(ctx.engine) as session:
            row = session.get(Shipment, shipment_id)
            return row is not None and is_final(row.status)

    async def final() -> bool:
        return await asyncio.to_thread(written)

    await _until(final, 30, 0.001, f"shipment {shipment_id} did not reach a final status")
    return time.perf_counter()


async def _until(
    check: Callable[[], Awaitable[bool]], within: float, interval: float, failure: str
) -> None:
    """Return as soon as `check` holds; a run that never gets there ends with `failure`."""
    deadline = time.perf_counter() + within
    while not await check():
        if time.perf_counter() > deadline:
            raise RuntimeError(failure)
        await asyncio.sleep(interval)


def _report_url(ctx: Context) -> str:
    """The simulator's report route: the benchmark posts reports as the simulator signs them."""
    return f"{ctx.api}{REPORT_ROUTE}simulator"
