"""Prometheus metrics of this API process, for a scraper inside the deployment."""

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["Operations"])


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """This process's metrics in the Prometheus text format (docs/observability.md)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
