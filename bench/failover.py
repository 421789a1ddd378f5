"""The cost of failover, under open-loop load: the first provider healthy; refusing connections
(each order asks it, is refused at once and goes to the second); and once its circuit is open
(each order skips it). Targets: p50 unchanged while healthy, p99 at most twice the healthy p99
while refusing, p50 within 10 ms of the healthy p50 once the circuit is open."""

import asyncio
import logging
from typing import Any

from bench.scenarios import Context, service
from bench.targets import at_rate
from core.config import Settings
from devstack import services
from devstack.processes import ProcessGroup

log = logging.getLogger("bench.failover")
# A circuit that never opens: every order meets the refused connection.
_NEVER_OPENS = 1_000_000


async def measure(ctx: Context, group: ProcessGroup, rate: float, seconds: float) -> dict[str, Any]:
    """Needs a stack whose first SMS provider is the simulator and whose second is another."""
    first = ctx.settings.sms_providers[0]
    phases: dict[str, Any] = {}
    await at_rate(service(ctx), rate, 3.0)  # warm-up
    phases["healthy"] = await _phase(ctx, rate, seconds)
    await _restart_worker(
        ctx, group, ctx.settings.model_copy(update={"provider_failure_threshold": _NEVER_OPENS})
    )
    await group.stop(first)
    try:
        phases["first_refusing"] = await _phase(ctx, rate, seconds)
        await _restart_worker(ctx, group, ctx.settings)
        await _phase(ctx, rate, ctx.settings.provider_failure_threshold / rate + 1)  # opens it
        phases["circuit_open"] = await _phase(ctx, rate, seconds)
    finally:
        await group.start(group.services[first])
        await _restart_worker(ctx, group, ctx.settings)
    healthy = phases["healthy"]
    return {
        **phases,
        "p99_refusing_over_healthy": round(
            phases["first_refusing"]["p99_ms"] / healthy["p99_ms"], 2
        ),
        "p50_open_minus_healthy_ms": round(phases["circuit_open"]["p50_ms"] - healthy["p50_ms"], 1),
    }


async def _phase(ctx: Context, rate: float, seconds: float) -> dict[str, float]:
    summary, _ = await at_rate(service(ctx), rate, seconds)
    if summary.errors:
        raise RuntimeError(f"{summary.errors} orders were not answered 201 during failover")
    log.warning("failover phase at %g req/s: %s", rate, summary)
    await asyncio.sleep(1)  # the phase's reports land before the next one starts
    return summary.as_dict()


async def _restart_worker(ctx: Context, group: ProcessGroup, settings: Settings) -> None:
    """A worker of `settings` (its circuits new), warmed up before anything is measured."""
    await group.stop("worker")
    await group.start(services.worker(settings, ctx.connection))
    await at_rate(service(ctx), 5.0, 2.0)
