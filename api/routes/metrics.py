"""Prometheus metrics of this API process, for a scraper inside the deployment."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from core import metrics as our_metrics
from store import webhooks

router = APIRouter(tags=["Operations"])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """This process's metrics in the Prometheus text format (docs/observability.md)."""
    # Counted in the store at each scrape: the same figure from every API process.
    failing = await run_in_threadpool(_failing_subscriptions, request.app.state.engine)
    our_metrics.set_failing_webhook_subscriptions(failing)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _failing_subscriptions(engine: Engine) -> int:
    with Session(engine) as session:
        return webhooks.failing_subscriptions(session)
