"""The services of the local stack, built from one Settings object, and their start."""

import os
import sys
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic_settings import BaseSettings
from temporalio.envconfig import ClientConfigProfile

from core.config import Settings
from core.connection import connection_environment, is_connection_variable
from core.temporal import connect_temporal
from devstack.processes import ProcessGroup, Service
from devstack.temporal_server import dev_server_command
from gateways.simulator import SimulatorSettings
from store.migrate import migrate_database

REPORT_ROUTE = "/notifications/api/v1/delivery-reports/"
CODEC_ROUTE = "/codec"
# The two simulators the local stack can run: each plays a provider of its own.
SIMULATORS = ("simulator", "simulator2")


def environment(settings: Settings, connection: ClientConfigProfile | None) -> dict[str, str]:
    """A child's whole environment: this process's, with the settings and the Temporal
    connection (for a child that talks to Temporal) as variables, so every child reads the
    same configuration. No connection variable of this process's own leaks in (a developer's
    TEMPORAL_API_KEY, say)."""
    env = {**_inherited(), **(connection_environment(connection) if connection else {})}
    for name, value in settings.model_dump(mode="json").items():
        section = getattr(settings, name)
        if isinstance(section, BaseSettings):
            prefix = str(section.model_config.get("env_prefix", ""))
            env.update({f"{prefix}{k}".upper(): _text(v) for k, v in value.items()})
        else:
            env[name.upper()] = _text(value)
    return env


def _text(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _simulator_environment(settings: Settings, name: str) -> dict[str, str]:
    """The variables the simulator process reads (simulator/config.py) for the one `name`."""
    section: SimulatorSettings = getattr(settings, name)
    where = urlsplit(section.url)
    return {
        "SIMULATOR_HOST": where.hostname or "127.0.0.1",
        "SIMULATOR_HTTP_PORT": str(where.port or 80),
        "SIMULATOR_SMTP_PORT": str(section.smtp_port),
        "SIMULATOR_WEBHOOK_URL": section.webhook_url or settings.api_url + REPORT_ROUTE + name,
    }


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


def simulator(
    settings: Settings, extra_env: dict[str, str] | None = None, name: str = "simulator"
) -> Service:
    """The simulator that plays the provider `name` (`simulator` or `simulator2`)."""
    env = {
        **environment(settings, None),
        **_simulator_environment(settings, name),
        **(extra_env or {}),
    }
    ready = getattr(settings, name).url + "/messages?to=ready"
    return Service(name, [sys.executable, "-m", "simulator"], env, ready=lambda: http_ok(ready))


def simulators_in_use(settings: Settings) -> list[str]:
    """The simulators the settings send through, in order."""
    chosen = {*settings.sms_providers, *settings.email_providers}
    return [name for name in SIMULATORS if name in chosen]


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
        "--timeout-keep-alive",
        str(settings.api_keep_alive_seconds),
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
    """Migrate the store, then start Temporal (in memory unless `db_file`), the simulators the
    settings send through, a worker and the API in `group`, each ready before the next: the
    group can stop, kill and restart any of them by name."""
    migrate_database(settings.database_url)
    await group.start(temporal(settings, connection, ui=ui, db_file=db_file))
    for name in simulators_in_use(settings):
        await group.start(simulator(settings, simulator_env, name))
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
