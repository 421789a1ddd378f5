"""Health: liveness always 200; readiness 200 only when Temporal and the database answer."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from api.main import create_app
from core.config import Settings
from devstack.processes import free_port
from tests.conftest import Stack, stack_settings
from tests.helpers import SMS, sms_order


@asynccontextmanager
async def api_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app in-process, lifespan included, for settings the shared stack cannot take."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


async def test_healthy_stack_is_200(stack: Stack) -> None:
    for route in ("/health", "/health/ready"):
        response = await stack.api.get(route)
        assert response.status_code == 200
        assert response.json()["checks"] == {"temporal": "ok", "database": "ok"}
    assert (await stack.api.get("/health/live")).json() == {"status": "ok"}


async def test_unreachable_temporal_is_503_for_health_and_orders(
    stack: Stack, tmp_path: Path
) -> None:
    settings = stack_settings(
        tmp_path,
        f"127.0.0.1:{free_port()}",
        handover_deadline_seconds=2.0,
        gateway_timeout_seconds=0.5,
        workflow_task_timeout_seconds=1.0,
        database_url=stack.settings.database_url,
    )
    async with api_for(settings) as api:
        health = await api.get("/health")
        ready = await api.get("/health/ready")
        live = await api.get("/health/live")
        order = await api.post(SMS, json=sms_order(), headers=stack.headers("ttd"))

    assert health.status_code == 503
    assert health.json()["checks"]["temporal"] == "unreachable"
    assert ready.status_code == 503
    # The process itself is fine: liveness must not get it restarted for Temporal's outage.
    assert live.status_code == 200
    assert order.status_code == 503
    assert order.json()["code"] == "NOT-00004"
