"""An email's handover over SMTP with STARTTLS and AUTH, on a connection of its own and on one
kept open (`SMTP_IDLE_SECONDS`), on loopback and behind a network delay: what keeping
connections open saves a user waiting for a code, where the server is a real network away."""

import logging
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from domain.orders import ContentType
from gateways.base import EmailSend
from gateways.smtp import SmtpEmail, SmtpServer
from gateways.smtp_connections import IDLE_SECONDS
from tests.support.fakes.smtp import FakeSmtp
from tests.support.fakes.tcp_proxy import proxied
from tests.support.fakes.tls import self_signed

ROUND_TRIPS_MS = (0.0, 20.0)
# A connection per message, and connections kept open as the gateway's settings keep them.
WAYS = {"per_message": 0.0, "kept_open": IDLE_SECONDS}
_WARM_UP = 3


async def _handovers(fake: FakeSmtp, server: SmtpServer, idle: float, count: int) -> dict[str, Any]:
    gateway = SmtpEmail(server, 10.0, idle_seconds=idle)
    times: list[float] = []
    before = fake.connections
    for n in range(_WARM_UP + count):
        message = EmailSend(
            f"bench{n:06}",
            "kari@example.no",
            "noreply@example.no",
            "Your code",
            "123456",
            ContentType.PLAIN,
        )
        start = time.perf_counter()
        await gateway.send_email(message)
        if n >= _WARM_UP:
            times.append((time.perf_counter() - start) * 1000)
    fake.hang_up()
    quantiles = statistics.quantiles(times, n=10)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p90_ms": round(quantiles[-1], 1),
        "connections": fake.connections - before,
        "messages": _WARM_UP + count,
    }


async def measure(count: int) -> dict[str, Any]:
    """Per round trip, per idle setting: the handover's p50 and p90, and connections opened."""
    results: dict[str, Any] = {}
    # The local server's aiosmtpd warns of its own API on every login.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="aiosmtpd")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as directory:
        context, ca = self_signed(Path(directory))
        fake = FakeSmtp()
        async with fake.running("starttls", context) as port:
            for rtt in ROUND_TRIPS_MS:
                async with proxied(port, rtt) as proxy:
                    server = SmtpServer(
                        "127.0.0.1", proxy.port, "starttls", fake.username, fake.password, str(ca)
                    )
                    results[f"rtt_{rtt:g}_ms"] = {
                        way: await _handovers(fake, server, idle, count)
                        for way, idle in WAYS.items()
                    }
    return results
