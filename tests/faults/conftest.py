"""A stack of real processes (Temporal dev server with its SQLite file, simulator, worker, API)
that the fault tests kill, stop and restart."""

from collections.abc import AsyncIterator

import httpx
import pytest

from core.outbound import new_client
from devstack.processes import ProcessGroup
from devstack.scratch import scratch_connection, scratch_settings, scratch_stack
from store.engine import create_db_engine
from tests.support.stack import ONE_PROVIDER, FaultStack


@pytest.fixture(scope="module")
async def faults(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultStack]:
    tmp = tmp_path_factory.mktemp("faults")
    # A webhook attempt whose worker died is given up on, and retried, after 4 s.
    settings = scratch_settings(
        tmp,
        ttl_grace_seconds=1,
        recipient_limit=10_000,
        tenant_limit=100_000,
        webhook_timeout_seconds=1,
        **ONE_PROVIDER,
    )
    connection = scratch_connection()
    log = (tmp / "processes.log").open("wb")
    group = ProcessGroup(sink=log)
    engine = create_db_engine(settings.database_url)
    async with (
        scratch_stack(
            settings,
            connection,
            group=group,
            db_file=str(tmp / "temporal.sqlite"),
            simulator_env={"SIMULATOR_EXPIRY_SCALE": "0.1"},
        ) as client,
        httpx.AsyncClient(base_url=settings.api_url, timeout=60) as api,
        # Idle connections dropped before the simulator drops them (uvicorn: 5 s), as ours are.
        new_client(base_url=settings.simulator.url, timeout=30) as simulator,
    ):
        yield FaultStack(settings, client, engine, api, simulator, connection, group)
    engine.dispose()
    log.close()


@pytest.fixture(autouse=True)
async def running(faults: FaultStack) -> None:
    """Every scenario starts from a whole stack, whatever the previous one broke."""
    await faults.ensure_running()
