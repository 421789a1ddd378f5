"""The FastAPI application: lifespan-made shared clients, routers, problem handlers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import problems
from api.auth import HmacTokenVerifier
from api.guard import RequestGuard
from api.ordering import OrderService
from api.reports_inbox import ReportInbox
from api.routes import delivery_reports, health, orders, shipments
from core.config import Settings, get_settings
from core.logs import configure_logging
from core.temporal import connect_temporal
from gateways.registry import build_report_readers
from store.engine import create_db_engine
from store.migrate import require_current_schema

BASE_PATH = "/notifications/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_db_engine(settings.database_url)
        require_current_schema(engine)
        client = await connect_temporal(settings, lazy=True)
        app.state.settings = settings
        app.state.engine = engine
        app.state.temporal = client
        app.state.verifier = HmacTokenVerifier(settings.auth_jwt_secret)
        app.state.orders = OrderService(client, engine, settings)
        app.state.inbox = ReportInbox(client, engine, build_report_readers(settings))
        yield
        engine.dispose()

    configure_logging(settings.log_level)
    app = FastAPI(
        title="Instant notifications",
        version="1.0",
        summary="One SMS or one email, to one recipient, right now.",
        lifespan=lifespan,
    )
    app.add_middleware(
        RequestGuard,
        max_bytes=settings.max_request_bytes,
        json_prefixes=(f"{BASE_PATH}/future/orders",),
    )
    problems.install(app)
    for router in (orders.router, shipments.router, delivery_reports.router):
        app.include_router(router, prefix=BASE_PATH)
    app.include_router(health.router)
    return app
