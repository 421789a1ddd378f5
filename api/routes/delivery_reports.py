"""Delivery reports from gateways: verified, matched to their shipment, never silently dropped."""

from fastapi import APIRouter, Request

from api.deps import InboxDep
from api.schemas.orders import ApiModel
from api.schemas.problems import problem_responses
from gateways.base import InboundReport

router = APIRouter(prefix="/delivery-reports", tags=["Delivery reports"])


class ReportsReceived(ApiModel):
    received: int
    duplicate: bool = False


@router.post("/{provider}", responses=problem_responses(400, 401, 404, 413, 503))
async def receive_reports(provider: str, request: Request, inbox: InboxDep) -> ReportsReceived:
    """Take one provider request of delivery reports (signed; see the README per provider)."""
    inbound = InboundReport(
        url=str(request.url), headers=request.headers, body=await request.body()
    )
    result = await inbox.receive(provider, inbound)
    return ReportsReceived(received=result.received, duplicate=result.duplicate)
