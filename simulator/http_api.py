"""The simulator's HTTP side: the SMS send API, the message list and the inbox page."""

import asyncio
from importlib import resources
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from simulator.config import SimulatorSettings
from simulator.inbox import Inbox
from simulator.outage import Outage
from simulator.outcomes import normalize_phone, sms_outcome
from simulator.reports import ReportSender
from simulator.webhook_inbox import WebhookInbox


class SecretIn(BaseModel):
    """A subscription as the service's API answered its creation: only `secret` is read."""

    secret: str


class SmsIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    to: str
    sender: str = Field(alias="from")
    body: str
    reference: str
    validity_seconds: int = Field(alias="validitySeconds", default=172800)


def create_app(
    inbox: Inbox,
    reports: ReportSender,
    settings: SimulatorSettings,
    outage: Outage | None = None,
    webhooks: WebhookInbox | None = None,
) -> FastAPI:
    app = FastAPI(title="Gateway simulator", docs_url="/docs")
    outage = outage or Outage()
    webhooks = webhooks or WebhookInbox()

    @app.post("/sms", status_code=201)
    async def send_sms(sms: SmsIn) -> JSONResponse:
        """Accept one SMS; the recipient number decides what happens (see the magic table)."""
        outcome = sms_outcome(sms.to)
        if outcome.unavailable or outage.active:
            return JSONResponse({"error": "Service temporarily unavailable"}, status_code=503)
        if outcome.refuse:
            return JSONResponse({"error": outcome.refuse}, status_code=400)
        message, new = inbox.accept(
            "SMS", normalize_phone(sms.to), sms.sender, sms.body, sms.reference
        )
        if outcome.hang:
            await asyncio.Event().wait()
        if outcome.slow:
            await asyncio.sleep(settings.slow_handover_seconds)
        if new:
            reports.schedule(message, outcome.reports, sms.validity_seconds)
        return JSONResponse(
            {
                "messageId": message.id,
                "reference": message.reference,
                "submissions": message.submissions,
            },
            status_code=201,
        )

    @app.get("/messages")
    async def messages(
        to: Annotated[str | None, Query()] = None,
        reference: Annotated[str | None, Query()] = None,
    ) -> list[dict[str, Any]]:
        """Everything received, newest first; `to` and `reference` filter."""
        if to is not None:
            # An unencoded '+' in a query string arrives as a space.
            to = normalize_phone("+" + to[1:] if to.startswith(" ") else to)
        return [m.as_json() for m in inbox.messages(to=to, reference=reference)]

    @app.post("/outage")
    async def start_outage(
        seconds: Annotated[float, Query(gt=0, le=3600)] = 60,
    ) -> dict[str, float]:
        """Refuse every handover (503 here, 451 over SMTP) for `seconds`."""
        outage.start(seconds)
        return {"outageSeconds": outage.seconds_left()}

    @app.delete("/outage")
    async def end_outage() -> dict[str, float]:
        """Take handovers again."""
        outage.end()
        return {"outageSeconds": 0.0}

    @app.post("/webhooks", status_code=204)
    async def receive_webhook(request: Request) -> None:
        """Record a webhook event of the service, and whether its signature checks out."""
        webhooks.receive(dict(request.headers), await request.body())

    @app.get("/webhooks")
    async def webhook_events() -> list[dict[str, Any]]:
        """The webhook events received, newest first."""
        return [event.as_json() for event in webhooks.events()]

    @app.post("/webhooks/secrets")
    async def learn_secret(subscription: SecretIn) -> dict[str, int]:
        """Learn a subscription's secret, to check the signatures of the events it sends."""
        return {"secrets": webhooks.learn(subscription.secret)}

    @app.get("/", response_class=HTMLResponse)
    async def inbox_page() -> str:
        """A page where a developer reads the codes that were 'sent'."""
        return resources.files("simulator").joinpath("inbox.html").read_text()

    return app
