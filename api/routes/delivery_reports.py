"""Delivery reports from gateways: verified, matched to their shipment, never silently dropped."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api.deps import InboxDep
from api.schemas.orders import ApiModel
from api.schemas.problems import problem_responses
from gateways.base import InboundReport
from gateways.registry import REPORT_PROVIDERS

# The providers a report may come from; any other name is a 404.
Provider = Annotated[str, Path(json_schema_extra={"enum": REPORT_PROVIDERS})]

router = APIRouter(prefix="/delivery-reports", tags=["Delivery reports"])


class ReportsReceived(ApiModel):
    received: int
    duplicate: bool = False


@router.post(
    "/{provider}",
    response_model=ReportsReceived,
    responses=problem_responses(400, 401, 404, 413, 503, described={404: "No such provider."}),
)
async def receive_reports(
    provider: Provider, request: Request, inbox: InboxDep
) -> ReportsReceived | Response:
    """Take one provider request of delivery reports (signed; docs/providers.md per provider).

    Providers that prescribe an answer (an XML acknowledgement, a validation handshake) get it.
    """
    inbound = InboundReport(
        url=str(request.url), headers=request.headers, body=await request.body()
    )
    result = await inbox.receive(provider, inbound)
    if result.response is not None:
        return Response(result.response.body, media_type=result.response.media_type)
    return ReportsReceived(received=result.received, duplicate=result.duplicate)
