"""The four services of the local stack, built from one Settings object, and their start."""

import sys
from urllib.parse import urlsplit

import httpx
from temporalio.client import Client

from core.config import Settings
from devstack.processes import ProcessGroup, Service
from devstack.temporal_server import dev_server_command
from store.migrate import migrate_database

REPORT_ROUTE = "/notifications/api/v1/delivery-reports/simulator"


def environment(settings: Settings) -> dict[str, str]:
    """The settings as environment variables, so every child reads the same configuration."""
    values = settings.model_dump(mode="json")
    env = {key.upper(): str(value) for key, value in values.items()}
    api = settings.api_url
    sim = urlsplit(settings.simulator_url)
    env.update(
        {
            "SIMULATOR_HOST": sim.hostname or "127.0.0.1",
            "SIMULATOR_HTTP_PORT": str(sim.port or 8025),
            "SIMULATOR_SMTP_PORT": str(settings.simulator_smtp_port),
            "SIMULATOR_WEBHOOK_URL": settings.simulator_webhook_url or api + REPORT_ROUTE,
        }
    )
    return env


def temporal(settings: Settings, *, ui: bool = True, db_file: str | None = None) -> Service:
    port = int(settings.temporal_address.rsplit(":", 1)[1])
    return Service(
        "temporal",
        dev_server_command(port, settings.temporal_ui_port if ui else None, db_file),
        ready=lambda: _temporal_ready(settings.temporal_address),
    )


def simulator(settings: Settings, extra_env: dict[str, str] | None = None) -> Service:
    return Service(
        "simulator",
        [sys.executable, "-m", "simulator"],
        {**environment(settings), **(extra_env or {})},
        ready=lambda: http_ok(settings.simulator_url + "/messages?to=ready"),
    )


def worker(settings: Settings) -> Service:
    return Service("worker", [sys.executable, "-m", "worker"], environment(settings))


def uvicorn_command(factory: str, host: str, port: int, *options: str) -> list[str]:
    """An ASGI app factory served by uvicorn, quiet except for warnings."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        *options,
    ]


def api(settings: Settings) -> Service:
    command = uvicorn_command(
        "api.main:create_app",
        settings.api_host,
        settings.api_port,
        # On SIGTERM, requests in flight (a handover takes up to its deadline) may finish.
        "--timeout-graceful-shutdown",
        str(settings.api_shutdown_grace_seconds),
    )
    base = settings.api_url
    ready = base + "/health/ready"
    return Service("api", command, environment(settings), ready=lambda: http_ok(ready))


async def start_stack(
    group: ProcessGroup,
    settings: Settings,
    *,
    ui: bool = True,
    db_file: str | None = None,
    simulator_env: dict[str, str] | None = None,
) -> None:
    """Migrate the store, then start Temporal (in memory unless `db_file`), the simulator, a
    worker and the API in `group`, each ready before the next: the group can stop, kill and
    restart any of them by name."""
    migrate_database(settings.database_url)
    await group.start(temporal(settings, ui=ui, db_file=db_file))
    await group.start(simulator(settings, simulator_env))
    await group.start(worker(settings))
    await group.start(api(settings))


async def _temporal_ready(address: str) -> bool:
    try:
        client = await Client.connect(address)
        return await client.service_client.check_health()
    except Exception:
        return False


async def http_ok(url: str) -> bool:
    try:
        async with httpx.AsyncClient() as http:
            return (await http.get(url, timeout=2)).status_code == 200
    except httpx.HTTPError:
        return False
