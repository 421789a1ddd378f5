"""What the gateway simulator received, and a simulator inside the test process."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from aiosmtpd.smtp import SMTP

from core.config import Settings
from core.outbound import new_client
from devstack import services
from simulator.config import SimulatorSettings
from simulator.http_api import create_app
from simulator.inbox import Inbox
from simulator.outage import Outage
from simulator.reports import ReportSender
from simulator.smtp_server import SmtpHandler
from tests.support.bodies import reference_of
from tests.support.serving import serving


async def received(simulator: httpx.AsyncClient, **filters: str) -> list[dict[str, Any]]:
    """The messages the simulator holds, filtered by `to` or `reference`."""
    found: list[dict[str, Any]] = (await simulator.get("/messages", params=filters)).json()
    return found


async def received_for(simulator: httpx.AsyncClient, org: str, key: str) -> list[dict[str, Any]]:
    """The messages handed over for a tenant's idempotency key."""
    return await received(simulator, reference=reference_of(org, key))


@contextlib.asynccontextmanager
async def simulator_in_process(
    settings: Settings, name: str, expiry_scale: float = 1.0, grace: int = 1
) -> AsyncIterator[httpx.AsyncClient]:
    """The simulator that plays provider `name` of `settings`, in the test's own event loop (a
    process takes seconds to start); it stops refusing connections, as a provider that is down.
    Yields a client of its HTTP side."""
    env = {k.lower(): v for k, v in services.simulator(settings, name=name).env.items()}
    config = SimulatorSettings(
        _env_file=None,  # type: ignore[call-arg]
        host="127.0.0.1",
        http_port=int(env["simulator_http_port"]),
        smtp_port=int(env["simulator_smtp_port"]),
        webhook_url=env["simulator_webhook_url"],
        expiry_scale=expiry_scale,
    )
    inbox, outage = Inbox(), Outage()
    async with httpx.AsyncClient() as http:
        reports = ReportSender(
            http, config.webhook_url, settings.delivery_report_secret, 0.1, expiry_scale
        )
        handler = SmtpHandler(inbox, reports, config, outage)
        smtp = await asyncio.get_running_loop().create_server(
            lambda: SMTP(handler, hostname=f"{name}.local"), "127.0.0.1", config.smtp_port
        )
        try:
            async with (
                serving(
                    create_app(inbox, reports, config, outage), config.http_port, grace
                ) as base,
                new_client(base_url=base, timeout=10) as client,  # drops idle ones first
            ):
                yield client
        finally:
            smtp.close()
            await smtp.wait_closed()
