"""The four services of the local stack, built from one Settings object, and their start."""

import os
import sys
from urllib.parse import urlsplit

import httpx
from temporalio.envconfig import ClientConfigProfile

from core.config import Settings
from core.connection import connection_environment, is_connection_variable
from core.temporal import connect_temporal
from devstack.processes import ProcessGroup, Service
from devstack.temporal_server import dev_server_command
from store.migrate import migrate_database

REPORT_ROUTE = "/notifications/api/v1/delivery-reports/simulator"
CODEC_ROUTE = "/codec"


def environment(settings: Settings, connection: ClientConfigProfile | None) -> dict[str, str]:
    """A child's whole environment: this process's, with the settings and the Temporal
    connection (for a child that talks to Temporal) as variables, so every child reads the
    same configuration. No connection variable of this process's own leaks in (a developer's
    TEMPORAL_API_KEY, say)."""
    values = settings.model_dump(mode="json")
    env = {**_inherited(), **(connection_environment(connection) if connection else {})}
    env.update({key.upper(): str(value) for key, value in values.items()})
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


def temporal(
    settings: Settings,
    connection: ClientConfigProfile,
    *,
    ui: bool = True,
    db_file: str | None = None,
) -> Service:
    """The dev server on the port of the connection's address; its UI decodes payloads
    through the API's codec route."""
    port = int((connection.address or "").rsplit(":", 1)[1])
    command = dev_server_command(
        port,
        settings.temporal_ui_port if ui else None,
        db_file,
        settings.api_url + CODEC_ROUTE,
        connection.namespace or "default",
    )
    return Service(
        "temporal", command, _inherited(), ready=lambda: _temporal_ready(settings, connection)
    )


def simulator(settings: Settings, extra_env: dict[str, str] | None = None) -> Service:
    return Service(
        "simulator",
        [sys.executable, "-m", "simulator"],
        {**environment(settings, None), **(extra_env or {})},
        ready=lambda: http_ok(settings.simulator_url + "/messages?to=ready"),
    )


def worker(settings: Settings, connection: ClientConfigProfile) -> Service:
    return Service("worker", [sys.executable, "-m", "worker"], environment(settings, connection))


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


def api(settings: Settings, connection: ClientConfigProfile) -> Service:
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
    env = environment(settings, connection)
    return Service("api", command, env, ready=lambda: http_ok(ready))


async def start_stack(
    group: ProcessGroup,
    settings: Settings,
    connection: ClientConfigProfile,
    *,
    ui: bool = True,
    db_file: str | None = None,
    simulator_env: dict[str, str] | None = None,
) -> None:
    """Migrate the store, then start Temporal (in memory unless `db_file`), the simulator, a
    worker and the API in `group`, each ready before the next: the group can stop, kill and
    restart any of them by name."""
    migrate_database(settings.database_url)
    await group.start(temporal(settings, connection, ui=ui, db_file=db_file))
    await group.start(simulator(settings, simulator_env))
    await group.start(worker(settings, connection))
    await group.start(api(settings, connection))


def _inherited() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not is_connection_variable(k)}


async def _temporal_ready(settings: Settings, connection: ClientConfigProfile) -> bool:
    try:
        client = await connect_temporal(settings, connection)
        return await client.service_client.check_health()
    except Exception:
        return False


async def http_ok(url: str) -> bool:
    try:
        async with httpx.AsyncClient() as http:
            return (await http.get(url, timeout=2)).status_code == 200
    except httpx.HTTPError:
        return False
