"""Health: liveness always 200; readiness 200 only when Temporal and the database answer; a
store that is away answers 503."""

import uuid
from pathlib import Path

import httpx
from sqlalchemy import make_url, text

from api.main import create_app
from devstack.postgres import scratch_postgres_database
from devstack.scratch import scratch_connection, scratch_settings
from store.engine import create_db_engine
from store.migrate import migrate_database
from tests.support.answers import assert_problem
from tests.support.bodies import sms_order
from tests.support.inprocess import api_for
from tests.support.postgres import postgres_server
from tests.support.routes import SHIPMENT, SMS
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
    # Nothing listens on the address of a scratch connection until its stack starts.
    settings = scratch_settings(
        tmp_path,
        handover_deadline_seconds=2.0,
        gateway_timeout_seconds=0.5,
        workflow_task_timeout_seconds=1.0,
        database_url=stack.settings.database_url,
    )
    async with api_for(settings, scratch_connection()) as api:
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


async def test_a_store_that_refuses_connections_is_a_503_not_a_500(
    stack: Stack, tmp_path: Path
) -> None:
    """The database away is a temporary failure: callers and providers retry a 503."""
    with scratch_postgres_database(postgres_server()) as url:
        migrate_database(url)
        settings = scratch_settings(tmp_path, database_url=url)
        async with api_for(settings, scratch_connection()) as api:
            name = make_url(url).database
            admin = create_db_engine(postgres_server()).execution_options(
                isolation_level="AUTOCOMMIT"
            )
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
            admin.dispose()
            answer = await api.get(f"{SHIPMENT}/{uuid.uuid4()}", headers=stack.headers("ttd"))

    problem = assert_problem(answer, 503)
    assert problem["detail"] == "The store is not available."
    assert answer.headers["retry-after"]


async def test_a_store_error_no_retry_mends_is_a_500(stack: Stack, tmp_path: Path) -> None:
    """A schema that drifted (here a column gone) is no outage: a 503 would have callers and
    providers retry for ever, and hide the cause."""
    settings = scratch_settings(tmp_path)
    migrate_database(settings.database_url)
    app = create_app(settings, scratch_connection())
    async with app.router.lifespan_context(app):
        engine = create_db_engine(settings.database_url)
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE shipment DROP COLUMN handover_token"))
        engine.dispose()
        # The app's own 500 answer, rather than the error it logs and raises again.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as api:
            answer = await api.get(f"{SHIPMENT}/{uuid.uuid4()}", headers=stack.headers("ttd"))

    assert_problem(answer, 500)


async def test_a_store_that_holds_the_check_makes_readiness_503_not_a_hang(
    stack: Stack, tmp_path: Path
) -> None:
    """A lock held on what the check reads (or a server that stopped answering) ends the
    check at its own timeout, and the API is unready rather than its probe timing out."""
    with scratch_postgres_database(postgres_server()) as url:
        migrate_database(url)
        settings = scratch_settings(tmp_path, database_url=url)
        holder = create_db_engine(url)
        async with api_for(settings, stack.connection) as api:
            with holder.begin() as connection:
                connection.execute(text("LOCK TABLE provider_circuit IN ACCESS EXCLUSIVE MODE"))
                held = await api.get("/health/ready")
            after = await api.get("/health/ready")
        holder.dispose()

    assert held.status_code == 503
    assert held.json()["checks"] == {"temporal": "ok", "database": "unreachable"}
    assert after.status_code == 200
