"""Webhooks as the tests reach them: a receiver (a local HTTP server that records what it is
sent and answers as the test says: 2xx, an error status, or never), and the subscription
routes."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devstack.processes import free_port
from domain.manifest import ShipmentManifest
from domain.webhooks import DeliveryStatus, EventType, WebhookEvent
from store.models import WebhookDelivery, WebhookSubscription
from tests.support.answers import shipment_id
from tests.support.bodies import sms_order
from tests.support.polling import eventually
from tests.support.routes import SMS, WEBHOOKS
from tests.support.serving import serving
from tests.support.stack import Stack, Tenant


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    status: int = 204
    hang: bool = False
    # While set and not open, every request waits for it, then gets `status`.
    gate: asyncio.Event | None = None
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _receive(self, request: Request) -> Response:
        self.received.append(Received(dict(request.headers), await request.body()))
        if self.hang:
            await asyncio.Event().wait()
        if self.gate is not None:
            await self.gate.wait()
        return Response(status_code=self.status)

    @asynccontextmanager
    async def running(self) -> AsyncIterator["Receiver"]:
        """Listening on its port until the block ends; it may be started again after."""
        app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])
        async with serving(app, self.port):
            yield self

    async def events(self, count: int, within: float = 20.0) -> list[Received]:
        """Wait for at least `count` requests; return all of them."""

        async def arrived() -> list[Received] | None:
            return list(self.received) if len(self.received) >= count else None

        return await eventually(arrived, within)

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.received if r.event["type"] == event_type]


async def subscribe(stack: Stack, tenant: Tenant, url: str) -> dict[str, Any]:
    """A subscription of the tenant's, as its creation answered (with the secret)."""
    created = await stack.api.post(
        WEBHOOKS, json={"url": url, "description": "test receiver"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def place(api: httpx.AsyncClient, tenant: Tenant, phone: str | None = None) -> str:
    """An SMS order of the tenant's; its shipment id."""
    created = await api.post(SMS, json=sms_order(phone), headers=tenant.headers)
    assert created.status_code == 201, created.text
    return shipment_id(created)


async def deliveries(
    stack: Stack, tenant: Tenant, subscription: dict[str, Any], **params: str
) -> list[dict[str, Any]]:
    url = f"{WEBHOOKS}/{subscription['id']}/deliveries"
    response = await stack.api.get(url, params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()
    return listed


async def succeeded(
    stack: Stack, tenant: Tenant, subscription: dict[str, Any], count: int = 1
) -> list[dict[str, Any]]:
    """The subscription's succeeded deliveries, once there are `count` of them."""

    async def listed() -> list[dict[str, Any]] | None:
        found = await deliveries(stack, tenant, subscription, status="succeeded")
        return found if len(found) >= count else None

    return await eventually(listed)


def completed_event(org: str, shipment_id: str | None = None) -> WebhookEvent:
    """A `shipment.completed` event of the tenant's: of a new shipment, or of `shipment_id`."""
    manifest = ShipmentManifest(
        shipment_id=shipment_id or str(uuid.uuid4()),
        senders_reference=None,
        order_status="Order_Completed",
        channel="SMS",
        destination="+4791234567",
        status="SMS_Delivered",
        last_update=datetime.now(UTC),
    )
    return WebhookEvent(org, EventType.COMPLETED, manifest, manifest.last_update, 7)


def full_width(text: str) -> str:
    """ASCII letters and digits in their full-width forms, which IDNA maps back to ASCII."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in text)


def subscription_row(
    org: str, created_at: datetime, url: str = "https://receiver.example/hooks", secret: str = "s"
) -> WebhookSubscription:
    """A subscription of `org`, as the store keeps one."""
    return WebhookSubscription(
        id=str(uuid.uuid4()), org=org, url=url, secret=secret, created_at=created_at
    )


def delivery_row(
    subscription_id: str, status: DeliveryStatus, created_at: datetime, shipment_id: str = ""
) -> WebhookDelivery:
    """A completed-event delivery of the subscription, as the store keeps one."""
    return WebhookDelivery(
        id=str(uuid.uuid4()),
        subscription_id=subscription_id,
        event_type=EventType.COMPLETED,
        shipment_id=shipment_id or str(uuid.uuid4()),
        payload="{}",
        status=status,
        created_at=created_at,
        updated_at=created_at,
    )
