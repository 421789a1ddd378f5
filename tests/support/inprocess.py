"""The API and workers inside the test process, for settings the shared stack cannot take."""

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import httpx
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile

from api.main import create_app
from core import outbound
from core.config import Settings
from core.temporal import connect_temporal
from tests.support.serving import serving
from tests.support.stack import Stack
from worker import running_workers


@asynccontextmanager
async def running_worker(
    client: Client, settings: Settings, engine: Engine, threads: int = 8
) -> AsyncIterator[None]:
    """The production workers (real activities: store, gateways, webhooks) on the settings'
    task queues: the orders' and the webhooks'."""
    async with outbound.new_client() as http:
        with ThreadPoolExecutor(max_workers=threads) as executor:
            async with running_workers(client, settings, engine, http, executor):
                yield


@asynccontextmanager
async def workflow_worker(
    client: Client, stack: Stack, settings: Settings | None = None
) -> AsyncIterator[str]:
    """A worker for the stack's store and simulator on a fresh task queue, or on the task queue
    of the given settings; yields the task queue."""
    if settings is None:
        task_queue = f"wf-{uuid.uuid4().hex[:10]}"
        settings = stack.settings.model_copy(update={"temporal_task_queue": task_queue})
    async with running_worker(client, settings, stack.engine):
        yield settings.temporal_task_queue


@asynccontextmanager
async def api_and_worker(
    settings: Settings, engine: Engine, connection: ClientConfigProfile
) -> AsyncIterator[httpx.AsyncClient]:
    """The API on its real port and the workers on the settings' task queues, all for
    `settings` and connected by `connection` (so they seal and open payloads alike)."""
    client = await connect_temporal(settings, connection)
    app = create_app(settings, connection)
    # As `make run` serves it: with uvicorn's own 5 s, the client's pool (which keeps a
    # connection 5 s too) now and then sent a request down a connection being closed.
    keep_alive = settings.api_keep_alive_seconds
    async with (
        serving(app, settings.api_port, timeout_keep_alive=keep_alive) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as api,
        running_worker(client, settings, engine, threads=16),
    ):
        yield api


@asynccontextmanager
async def api_for(
    settings: Settings, connection: ClientConfigProfile
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app in-process, lifespan included, without a port of its own."""
    app = create_app(settings, connection)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


@asynccontextmanager
async def api_and_worker_with(
    stack: Stack, **overrides: object
) -> AsyncIterator[httpx.AsyncClient]:
    """An API and a worker of their own, for the stack's settings with `overrides`, on a fresh
    task queue."""
    settings = stack.settings.model_copy(
        update={"temporal_task_queue": f"own-{uuid.uuid4().hex[:8]}", **overrides}
    )
    async with (
        workflow_worker(stack.client, stack, settings),
        api_for(settings, stack.connection) as api,
    ):
        yield api
