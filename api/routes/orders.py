"""Instant orders: one SMS or one email, handed over before the answer."""

from fastapi import APIRouter, Response

from api.deps import OrdersDep, SettingsDep, SmsCapacitiesDep, Tenant
from api.ordering import OrderContent
from api.problems import invalid
from api.pumping import check_recipient
from api.schemas.orders import (
    DeprecatedInstantOrderIn,
    InstantEmailOrderIn,
    InstantSmsOrderIn,
    NotificationOut,
    OrderIn,
    OrderOut,
    RecipientSmsIn,
)
from api.schemas.problems import problem_responses
from core.config import Settings
from domain.orders import HandoverAnswer
from domain.sms import SmsCapacity

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


def _sms_content(
    body: OrderIn,
    recipient: RecipientSmsIn,
    settings: Settings,
    capacities: list[SmsCapacity],
    path: str,
) -> OrderContent:
    """The order, once every SMS provider it may go through is known to carry it as given, and
    its number is not one SMS pumping uses."""
    for capacity in capacities:
        errors = recipient.capacity_errors(capacity, path)
        if errors:
            raise invalid(errors)
    check_recipient(recipient.phone_number, settings.sms_allowed_countries, f"{path}.phoneNumber")
    return OrderContent(
        idempotency_id=body.idempotency_id,
        senders_reference=body.reference(),
        sms=recipient.message(settings.sms_default_sender),
        ttl_seconds=recipient.time_to_live_in_seconds,
    )


@router.post("/sms", status_code=201, response_model_exclude_none=True, responses=_ORDER_RESPONSES)
async def order_sms(
    body: InstantSmsOrderIn,
    tenant: Tenant,
    orders: OrdersDep,
    settings: SettingsDep,
    capacities: SmsCapacitiesDep,
    response: Response,
) -> OrderOut:
    """Send one SMS now; answers once the gateway has accepted or refused it."""
    content = _sms_content(body, body.recipient_sms, settings, capacities, "recipientSms")
    return _answer(response, await orders.place(tenant, content))


@router.post(
    "/email", status_code=201, response_model_exclude_none=True, responses=_ORDER_RESPONSES
)
async def order_email(
    body: InstantEmailOrderIn,
    tenant: Tenant,
    orders: OrdersDep,
    settings: SettingsDep,
    response: Response,
) -> OrderOut:
    """Send one email now; answers once the mail server has accepted or refused it."""
    content = OrderContent(
        idempotency_id=body.idempotency_id,
        senders_reference=body.reference(),
        email=body.recipient_email.message(settings.email_default_sender),
    )
    return _answer(response, await orders.place(tenant, content))


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
    settings: SettingsDep,
    capacities: SmsCapacitiesDep,
    response: Response,
) -> OrderOut:
    """Deprecated SMS shape (`recipient.recipientSms`); same behaviour as `/sms`."""
    path = "recipient.recipientSms"
    content = _sms_content(body, body.recipient.recipient_sms, settings, capacities, path)
    return _answer(response, await orders.place(tenant, content))
