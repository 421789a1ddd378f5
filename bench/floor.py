"""The floor: the same body validation and the same handover to the simulator, with no
Temporal and no database. It answers how fast the handover path could possibly be here.
Benchmark-only; never part of the product."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException, Response

from api.schemas.orders import InstantSmsOrderIn, NotificationOut, OrderOut
from core.config import get_settings
from gateways.base import GatewayUnavailable, SmsSend
from gateways.simulator import SimulatorSms


def create_floor() -> FastAPI:
    settings = get_settings()
    state: dict[str, SimulatorSms] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as http:
            state["sms"] = SimulatorSms(
                http, settings.simulator.url, settings.gateway_timeout_seconds
            )
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/floor/sms", status_code=201)
    async def floor_sms(body: InstantSmsOrderIn, response: Response) -> OrderOut:
        recipient = body.recipient_sms
        message = recipient.message(settings.sms_default_sender)
        try:
            await state["sms"].send_sms(
                SmsSend(
                    uuid.uuid4().hex,
                    message.phone_number,
                    message.sender,
                    message.body,
                    recipient.time_to_live_in_seconds,
                )
            )
        except GatewayUnavailable as exc:
            raise HTTPException(503) from exc
        shipment_id = str(uuid.uuid4())
        response.headers["Location"] = f"/floor/shipment/{shipment_id}"
        return OrderOut(
            notification_order_id=str(uuid.uuid4()),
            notification=NotificationOut(shipment_id=shipment_id),
        )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
