"""A stack of real processes (Temporal dev server with its SQLite file, simulator, worker, API)
that the fault tests kill, stop and restart."""

import contextlib
import os
import signal
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from core.config import Settings
from devstack import services
from devstack.processes import ProcessGroup, free_port
from devstack.token import mint_token
from store.engine import create_db_engine
from store.migrate import migrate_database

ORDER = ("temporal", "simulator", "worker", "api")


@dataclass
class FaultStack:
    settings: Settings
    group: ProcessGroup
    api: httpx.AsyncClient
    simulator: httpx.AsyncClient
    engine: Engine

    def headers(self, org: str) -> dict[str, str]:
        token = mint_token(self.settings.auth_jwt_secret, org, self.settings.auth_scope)
        return {"Authorization": f"Bearer {token}"}

    async def kill(self, name: str) -> None:
        """SIGKILL: no cleanup, no goodbye, as a crash would."""
        process = self.group.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()

    async def stop(self, name: str) -> None:
        await self.group.stop(name)

    async def start(self, name: str) -> None:
        await self.group.start(self.group.services[name])

    async def ensure_running(self) -> None:
        for name in ORDER:
            process = self.group.processes.get(name)
            if process is None or process.returncode is not None:
                await self.group.start(self.group.services[name])


def fault_settings(tmp: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_task_queue=f"faults-{uuid.uuid4().hex[:8]}",
        database_url=f"sqlite:///{tmp / 'store.sqlite'}",
        api_port=free_port(),
        simulator_url=f"http://127.0.0.1:{free_port()}",
        simulator_smtp_port=free_port(),
        # One provider whose circuit never opens: these faults are about one gateway's outages.
        sms_providers=["simulator"],
        email_providers=["simulator"],
        provider_failure_threshold=1_000_000,
        ttl_grace_seconds=1,
        recipient_limit=10_000,
        tenant_limit=100_000,
        log_level="WARNING",
    )


@pytest.fixture(scope="module")
async def faults(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultStack]:
    tmp = tmp_path_factory.mktemp("faults")
    settings = fault_settings(tmp)
    migrate_database(settings.database_url)
    log = (tmp / "processes.log").open("wb")
    group = ProcessGroup(sink=log)
    extra = {"SIMULATOR_EXPIRY_SCALE": "0.1", "TEMPORAL_ADDRESS": settings.temporal_address}
    await group.start(services.temporal(settings, ui=False, db_file=str(tmp / "temporal.sqlite")))
    await group.start(services.simulator(settings, extra))
    await group.start(services.worker(settings))
    await group.start(services.api(settings))
    base = f"http://{settings.api_host}:{settings.api_port}"
    engine = create_db_engine(settings.database_url)
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as api,
        httpx.AsyncClient(base_url=settings.simulator.url, timeout=30) as simulator,
    ):
        yield FaultStack(settings, group, api, simulator, engine)
    await group.stop_all()
    engine.dispose()
    log.close()


@pytest.fixture(autouse=True)
async def running(faults: FaultStack) -> None:
    """Every scenario starts from a whole stack, whatever the previous one broke."""
    await faults.ensure_running()
