"""Run the simulator: `python -m simulator` (HTTP on SIMULATOR_HTTP_PORT, SMTP on SMTP_PORT)."""

import asyncio
import logging

import httpx
import uvicorn
import uvloop
from aiosmtpd.smtp import SMTP

from simulator.config import SimulatorSettings
from simulator.http_api import create_app
from simulator.inbox import Inbox
from simulator.outage import Outage
from simulator.reports import ReportSender
from simulator.smtp_server import SmtpHandler

log = logging.getLogger("simulator")


async def main() -> None:
    settings = SimulatorSettings()
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    inbox, outage = Inbox(), Outage()
    async with httpx.AsyncClient() as http:
        reports = ReportSender(
            http,
            settings.webhook_url,
            settings.webhook_secret,
            settings.report_delay_seconds,
            settings.expiry_scale,
        )
        handler = SmtpHandler(inbox, reports, settings, outage)
        smtp = await asyncio.get_running_loop().create_server(
            lambda: SMTP(handler, hostname="simulator.local", enable_SMTPUTF8=True),
            settings.host,
            settings.smtp_port,
        )
        log.info(
            "SMTP on %s:%d, HTTP on %s:%d, reports to %s",
            settings.host,
            settings.smtp_port,
            settings.host,
            settings.http_port,
            settings.webhook_url,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(inbox, reports, settings, outage),
                host=settings.host,
                port=settings.http_port,
                log_level="warning",
                # Hanging handovers hold connections open on purpose; do not wait for them.
                timeout_graceful_shutdown=1,
            )
        )
        await server.serve()
        smtp.close()


if __name__ == "__main__":
    uvloop.run(main())
