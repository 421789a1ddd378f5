"""Health: liveness always 200; readiness 200 only when Temporal and the database answer."""

from pathlib import Path

from devstack.scratch import scratch_settings
from tests.support.bodies import sms_order
from tests.support.inprocess import api_for
from tests.support.routes import SMS
from tests.support.stack import Stack


async def test_healthy_stack_is_200(stack: Stack) -> None:
    for route in ("/health", "/health/ready"):
        response = await stack.api.get(route)
        assert response.status_code == 200
        assert response.json()["checks"] == {"temporal": "ok", "database": "ok"}
    assert (await stack.api.get("/health/live")).json() == {"status": "ok"}


async def test_unreachable_temporal_is_503_for_health_and_orders(
    stack: Stack, tmp_path: Path
) -> None:
    # Nothing listens on the temporal address of scratch settings.
    settings = scratch_settings(
        tmp_path,
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
