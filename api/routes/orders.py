"""Instant orders: one SMS or one email, handed over before the answer."""

from fastapi import APIRouter, Response

from api.deps import EmailOrdersDep, OrdersDep, SmsOrdersDep, Tenant
from api.schemas.orders import (
    DeprecatedInstantOrderIn,
    InstantEmailOrderIn,
    InstantSmsOrderIn,
    NotificationOut,
    OrderOut,
)
from api.schemas.problems import problem_responses
from domain.orders import HandoverAnswer

router = APIRouter(prefix="/future/orders/instant", tags=["Instant orders"])

SHIPMENT_PATH = "/notifications/api/v1/future/shipment/{}"

_ORDER_RESPONSES = {
    200: {"model": OrderOut, "description": "The order existed already: the original ids."},
    **problem_responses(400, 401, 403, 413, 415, 422, 429, 503),
}


def _answer(response: Response, answer: HandoverAnswer) -> OrderOut:
    response.status_code = 201 if answer.created else 200
    response.headers["Location"] = SHIPMENT_PATH.format(answer.shipment_id)
    return OrderOut(
        notification_order_id=answer.notification_order_id,
        notification=NotificationOut(
            shipment_id=answer.shipment_id, senders_reference=answer.senders_reference
        ),
    )


@router.post("/sms", status_code=201, response_model_exclude_none=True, responses=_ORDER_RESPONSES)
async def order_sms(
    body: InstantSmsOrderIn,
    tenant: Tenant,
    orders: OrdersDep,
    sms: SmsOrdersDep,
    response: Response,
) -> OrderOut:
    """Send one SMS now; answers once the gateway has accepted or refused it."""
    content = sms.content(body, body.recipient_sms, "recipientSms")
    return _answer(response, await orders.place(tenant, content))


@router.post(
    "/email", status_code=201, response_model_exclude_none=True, responses=_ORDER_RESPONSES
)
async def order_email(
    body: InstantEmailOrderIn,
    tenant: Tenant,
    orders: OrdersDep,
    email: EmailOrdersDep,
    response: Response,
) -> OrderOut:
    """Send one email now; answers once the mail server has accepted or refused it."""
    return _answer(response, await orders.place(tenant, email.content(body)))


@router.post(
    "",
    status_code=201,
    response_model_exclude_none=True,
    deprecated=True,
    responses=_ORDER_RESPONSES,
)
async def order_instant_deprecated(
    body: DeprecatedInstantOrderIn,
    tenant: Tenant,
    orders: OrdersDep,
    sms: SmsOrdersDep,
    response: Response,
) -> OrderOut:
    """Deprecated SMS shape (`recipient.recipientSms`); same behaviour as `/sms`."""
    content = sms.content(body, body.recipient.recipient_sms, "recipient.recipientSms")
    return _answer(response, await orders.place(tenant, content))
