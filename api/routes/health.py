"""Health: liveness (the process answers) and readiness (it reaches Temporal and the database),
with the providers the workers are skipping."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from store.circuits import open_circuits
from store.engine import within

router = APIRouter(tags=["Operations"])

_CHECK_TIMEOUT = timedelta(seconds=2)


@router.get("/health/live")
async def live() -> dict[str, str]:
    """200 while the process serves requests; checks no dependency, so an outage of Temporal
    or the database never gets the API restarted."""
    return {"status": "ok"}


_UNREADY: dict[int | str, dict[str, Any]] = {
    503: {"description": "Temporal or the database is unreachable."}
}


@router.get("/health/ready", responses=_UNREADY)
@router.get("/health", responses=_UNREADY)  # the readiness check under its older name
async def ready(request: Request) -> JSONResponse:
    """Checks both dependencies on every call, so a load balancer sees an outage at once.

    `openCircuits` lists the providers some worker skips now (each worker keeps its own
    circuits and reports their changes to the store); they do not make this API unready, as
    orders still go to the other providers or are answered at once."""
    temporal, circuits = await asyncio.gather(
        _temporal_ok(request.app.state.temporal), _store_ok(request)
    )
    database = circuits is not None
    checks = {
        "temporal": "ok" if temporal else "unreachable",
        "database": "ok" if database else "unreachable",
    }
    healthy = temporal and database
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks, "openCircuits": circuits},
        status_code=200 if healthy else 503,
    )


async def _temporal_ok(client: Client) -> bool:
    try:
        return await client.service_client.check_health(timeout=_CHECK_TIMEOUT)
    except Exception:
        return False


async def _store_ok(request: Request) -> list[dict[str, Any]] | None:
    """The open circuits, or None when the store does not answer within the check's time: a
    store that stops answering (a lock, dropped packets) must not hold the probe."""
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT.total_seconds()):
            return await run_in_threadpool(_open_circuits, request)
    except TimeoutError:
        return None


def _open_circuits(request: Request) -> list[dict[str, Any]] | None:
    """The circuits open in some worker, read from the store; None when the store is down."""
    try:
        # A lock wait ends with the check, so the thread does not outlive it for long.
        by = datetime.now(UTC) + _CHECK_TIMEOUT
        with Session(request.app.state.engine) as session, within(session.connection(), by):
            session.execute(text("SELECT 1"))
            found = open_circuits(session, datetime.now(UTC))
    except Exception:
        return None
    return [
        {
            "channel": c.channel,
            "provider": c.provider,
            "worker": c.worker,
            "openUntil": c.open_until.isoformat() if c.open_until else None,
        }
        for c in found
    ]
