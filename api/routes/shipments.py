"""Shipments: the delivery manifest of one shipment, and the feed of completed ones."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from api.deps import SessionDep, Tenant
from api.problems import Problem
from api.schemas.problems import problem_responses
from api.schemas.shipments import FeedEntryOut, ManifestOut
from store import shipments
from store.feed import FeedOrder, read_feed, snapshot_of

router = APIRouter(prefix="/future/shipment", tags=["Shipments"])

MAX_PAGE_SIZE = 500
MAX_SEQ = 2**63 - 1  # a 64-bit cursor, as the database stores it


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


@router.get(
    "/feed", response_model_exclude_none=True, responses=problem_responses(400, 401, 403, 503)
)
def status_feed(
    tenant: Tenant,
    session: SessionDep,
    seq: Annotated[
        int, Query(ge=0, le=MAX_SEQ, description="Exclusive cursor: the last sequenceNumber seen.")
    ] = 0,
    page_size: Annotated[int | None, Query(alias="pageSize", ge=-MAX_SEQ, le=MAX_SEQ)] = None,
    order_by: Annotated[
        Literal["asc", "desc"], BeforeValidator(_lower), Query(alias="orderBy")
    ] = "asc",
) -> list[FeedEntryOut]:
    """Completed shipments of the caller after `seq` (asc) or before it (desc)."""
    size = min(max(page_size if page_size is not None else MAX_PAGE_SIZE, 1), MAX_PAGE_SIZE)
    entries = read_feed(session, tenant, seq, size, FeedOrder(order_by))
    return [FeedEntryOut.of(entry.seq or 0, snapshot_of(entry)) for entry in entries]


@router.get(
    "/{shipment_id}",
    response_model_exclude_none=True,
    responses=problem_responses(401, 403, 404, 503),
)
def shipment(shipment_id: str, tenant: Tenant, session: SessionDep) -> ManifestOut:
    """The delivery manifest of one shipment of the caller's."""
    normalized = _normalized(shipment_id)
    row = normalized and shipments.find_for_tenant(session, tenant, normalized)
    if not row:
        raise Problem(
            404,
            "Shipment not found",
            f"No shipment {shipment_id} for this caller.",
            code="NOT-00003",
        )
    return ManifestOut.of(shipments.manifest(row))


def _normalized(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
