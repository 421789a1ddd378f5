"""The FastAPI application: lifespan-made shared clients, routers, problem handlers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from temporalio.envconfig import ClientConfigProfile

from api import openapi, problems
from api.auth import HmacTokenVerifier, SignatureVerifier, TokenVerifiers
from api.codec_service import CodecService
from api.completions import CompletionWatcher
from api.cors import PathCors
from api.email_orders import EmailOrders
from api.guard import RequestGuard
from api.head import HeadAsGet
from api.jwks import ALGORITHMS, JwksKeys, JwksTokenVerifier
from api.metrics import RequestMetrics
from api.ordering import OrderService
from api.path_case import PathCase
from api.query_names import QueryNames
from api.reports_inbox import ReportInbox
from api.routes import (
    codec,
    delivery_reports,
    health,
    metrics,
    orders,
    shipments,
    webhook_deliveries,
    webhooks,
)
from api.slashes import TrailingSlash
from api.sms_orders import SmsOrders
from core.config import Settings, get_settings
from core.logs import configure_logging
from core.query_secrets import hide_in_span
from core.temporal import connect_temporal
from core.tracing import configure_tracing, tracing_on
from gateways.registry import build_report_readers
from store.engine import create_db_engine
from store.migrate import require_current_schema

BASE_PATH = "/notifications/api/v1"
CODEC_PATH = "/codec/"
# The UI sends a payload of the history at a time; Temporal's own limit on a message is 4 MB,
# which base64 makes a third larger.
CODEC_MAX_REQUEST_BYTES = 6 * 1024 * 1024
SERVICE_NAME = "instant-notifications-api"
# Probes and scrapes every few seconds would drown the orders' traces.
_UNTRACED = "/health,/metrics$"


def token_verifiers(settings: Settings) -> TokenVerifiers:
    by_algorithm: dict[str, SignatureVerifier] = {}
    if settings.auth_jwt_secret:
        by_algorithm["HS256"] = HmacTokenVerifier(settings.auth_jwt_secret)
    if settings.auth_jwks_url:
        keys = JwksKeys(settings.auth_jwks_url, settings.auth_jwks_cache_seconds)
        jwks = JwksTokenVerifier(
            keys, settings.auth_issuer, settings.auth_audience, settings.auth_leeway_seconds
        )
        by_algorithm.update(dict.fromkeys(ALGORITHMS, jwks))
    return TokenVerifiers(
        by_algorithm, settings.auth_max_token_lifetime_seconds, settings.auth_leeway_seconds
    )


def create_app(
    settings: Settings | None = None, connection: ClientConfigProfile | None = None
) -> FastAPI:
    """`connection` is the Temporal connection; by default the TEMPORAL_* variables and
    profile of the process (core/connection.py)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_db_engine(settings.database_url)
        require_current_schema(engine)
        client = await connect_temporal(settings, connection, lazy=True)
        app.state.settings = settings
        app.state.engine = engine
        app.state.temporal = client
        app.state.verifier = token_verifiers(settings)
        app.state.orders = OrderService(client, engine, settings)
        app.state.sms_orders = SmsOrders.of(settings)
        app.state.email_orders = EmailOrders.of(settings)
        app.state.inbox = ReportInbox(client, engine, build_report_readers(settings))
        app.state.completions = CompletionWatcher(engine)
        app.state.codec = CodecService(settings.payload_encryption_key)
        yield
        await app.state.completions.close()
        engine.dispose()

    configure_logging(settings.log_level, settings.log_format)
    configure_tracing(settings, SERVICE_NAME)
    app = FastAPI(
        title="Instant notifications",
        version="1.0",
        summary="One SMS or one email, to one recipient, right now.",
        lifespan=lifespan,
    )
    # Added first, so it runs last, right before the routes read their parameters; a lambda,
    # because openapi.install below replaces app.openapi.
    app.add_middleware(QueryNames, document=lambda: app.openapi())
    app.add_middleware(
        RequestGuard,
        max_bytes=settings.max_request_bytes,
        json_paths=(f"{BASE_PATH}/future/orders/", CODEC_PATH, f"{BASE_PATH}/future/webhooks"),
        larger={CODEC_PATH: CODEC_MAX_REQUEST_BYTES},
        # Where the codec wants a token, a caller without one gets the orders' limit.
        larger_with_credentials=bool(settings.codec_scope),
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(RequestMetrics)  # outside HeadAsGet, so a HEAD is counted as one
    # Every part inside it sees a route's path as the route spells it.
    app.add_middleware(PathCase, document=lambda: app.openapi(), base=BASE_PATH)
    app.add_middleware(TrailingSlash)  # outermost: every other part sees the path it routes
    problems.install(app)
    openapi.install(app)
    for router in (
        orders.router,
        shipments.router,
        delivery_reports.router,
        webhooks.router,
        webhook_deliveries.router,
    ):
        app.include_router(router, prefix=BASE_PATH)
    app.include_router(codec.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    if tracing_on():
        FastAPIInstrumentor.instrument_app(
            app,
            excluded_urls=_UNTRACED,
            exclude_spans=["receive", "send"],
            server_request_hook=hide_in_span,
        )
    if settings.codec_origins:
        # Outermost, so that refusals (401, 413) reach the UI's page with their CORS headers.
        app.add_middleware(PathCors, prefix=CODEC_PATH, origins=settings.codec_origins)
    return app
