"""The engine floor behind an HTTP front door that does no work of its own: one FastAPI route
places the floor's order (Update-with-Start), another signals its report, as the service's API
places orders and takes a provider's reports. What any HTTP service of this shape costs beyond
the floor before its own work: the bound the service's ratios are read against
(`python -m bench --only front-door`; docs/performance.md). Benchmark-only.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from fastapi import FastAPI, Request
from temporalio.client import Client

from bench import caller
from bench.engine import FloorOrders, ReportedOrders
from bench.targets import Target
from devstack.processes import Service
from devstack.services import http_ok, uvicorn_command

NAME = "front door"  # its process, and its target, by name
_ADDRESS = "FRONT_DOOR_TEMPORAL_ADDRESS"
_QUEUE = "FRONT_DOOR_TASK_QUEUE"


def create_app() -> FastAPI:
    """The front door, placing floor orders through a Temporal client of its own."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = await Client.connect(os.environ[_ADDRESS])
        app.state.orders = FloorOrders(client, os.environ[_QUEUE])
        yield

    app = FastAPI(lifespan=lifespan)
    app.post("/orders")(_order)
    app.post("/reports/{workflow_id:path}")(_report)
    return app


async def _order(request: Request) -> dict[str, str | None]:
    """Update-with-Start; the order's workflow ID once its handover is answered."""
    await request.json()  # read as the service's API reads its orders
    orders: FloorOrders = request.app.state.orders
    return {"workflowId": await orders.hand_over()}


async def _report(workflow_id: str, request: Request) -> dict[str, str]:
    """The report's signal to the order's workflow."""
    await request.json()
    orders: FloorOrders = request.app.state.orders
    await orders.report(workflow_id)
    return {}


def service(address: str, task_queue: str, port: int) -> Service:
    """The front door on uvicorn, as the service's API runs (uvloop and httptools)."""
    env = {**os.environ, _ADDRESS: address, _QUEUE: task_queue}
    command = uvicorn_command("bench.front_door:create_app", "127.0.0.1", port)
    # uvicorn serves nothing before the lifespan has connected to Temporal.
    return Service(NAME, command, env, ready=lambda: http_ok(f"{url(port)}/docs"))


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def target(
    http: aiohttp.ClientSession, base: str, pids: dict[str, int], client: Client | None
) -> Target:
    """Orders through the front door, each one's report posted to it a while after its answer,
    as a provider posts its report to the service's API."""

    async def hand_over() -> str | None:
        async with http.post(f"{base}/orders", json={}) as response:
            workflow_id: str | None = (await response.json())["workflowId"]
        return workflow_id

    async def report(workflow_id: str) -> int:
        return await caller.post(http, f"{base}/reports/{workflow_id}", {})

    orders = ReportedOrders(hand_over, report)
    return Target(NAME, orders.place, pids, orders.settle, client)
