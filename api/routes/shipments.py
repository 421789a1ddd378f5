"""Shipments: the delivery manifest of one shipment, and the feed of completed ones."""

import asyncio
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BeforeValidator
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import CompletionsDep, SessionDep, Tenant
from api.problems import Problem
from api.schemas.numbers import WholeNumber
from api.schemas.problems import problem_responses
from api.schemas.shipments import FeedEntryOut, ManifestOut
from domain.statuses import OrderStatus
from store import shipments
from store.feed import FeedOrder, read_feed, snapshot_of

router = APIRouter(prefix="/future/shipment", tags=["Shipments"])

MAX_PAGE_SIZE = 500
MAX_SEQ = 2**63 - 1  # a 64-bit cursor, as the database stores it
MAX_WAIT_SECONDS = 30
# What access logs and the request metrics show for a read whose caller hung up while it waited.
CALLER_LEFT = 499


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


@router.get(
    "/feed", response_model_exclude_none=True, responses=problem_responses(400, 401, 403, 503)
)
def status_feed(
    tenant: Tenant,
    session: SessionDep,
    seq: Annotated[
        int,
        WholeNumber,
        Query(ge=0, le=MAX_SEQ, description="Exclusive cursor: the last sequenceNumber seen."),
    ] = 0,
    page_size: Annotated[
        int | None, WholeNumber, Query(alias="pageSize", ge=-MAX_SEQ, le=MAX_SEQ)
    ] = None,
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
    response_model=ManifestOut,
    response_model_exclude_none=True,
    responses=problem_responses(400, 401, 403, 404, 503),
)
async def shipment(
    shipment_id: str,
    request: Request,
    tenant: Tenant,
    session: SessionDep,
    completions: CompletionsDep,
    wait_seconds: Annotated[
        int | None,
        WholeNumber,
        Query(
            alias="waitSeconds",
            ge=0,
            le=MAX_WAIT_SECONDS,
            description="Answer as soon as the status is final, or after this many seconds.",
        ),
    ] = None,
) -> ManifestOut | Response:
    """The delivery manifest of one shipment of the caller's; with `waitSeconds`, once it is
    final or that time has passed, whichever comes first."""
    normalized = _normalized(shipment_id)
    if normalized is None or not wait_seconds:
        return await run_in_threadpool(_manifest, session, tenant, shipment_id, normalized)
    async with completions.watching(normalized) as completed:
        # Read after the watch began: a completion from here on wakes it.
        manifest = await run_in_threadpool(_manifest, session, tenant, shipment_id, normalized)
        if manifest.status == OrderStatus.COMPLETED:
            return manifest
        if await _caller_left(request, completed, wait_seconds):
            return Response(status_code=CALLER_LEFT)
    return await run_in_threadpool(_manifest, session, tenant, shipment_id, normalized)


async def _caller_left(request: Request, completed: asyncio.Future[None], seconds: int) -> bool:
    """Wait for the completion or the time limit; stop early, and say so, if the caller hangs
    up: an abandoned read would hold its watch (on SQLite, the shared poll) for its whole time
    and then read the store for nobody."""
    left = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({completed, left}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone = left.done() and not left.cancelled()
        left.cancel()
    return gone


async def _disconnected(request: Request) -> None:
    # A GET's only other message is its empty body; the server sends this one on a hang-up.
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _manifest(
    session: Session, tenant: str, shipment_id: str, normalized: str | None
) -> ManifestOut:
    # The session ends with each read: a request that waits holds no connection meanwhile,
    # and its next read starts afresh.
    try:
        row = normalized and shipments.find_for_tenant(session, tenant, normalized)
        if not row:
            raise Problem(
                404,
                "Shipment not found",
                f"No shipment {shipment_id} for this caller.",
                code="NOT-00003",
            )
        return ManifestOut.of(shipments.manifest(row))
    finally:
        session.close()


def _normalized(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
