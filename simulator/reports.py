"""Delivery reports to the service webhook, signed as Standard Webhooks, retried on failure."""

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime

import httpx

from gateways import standard_webhooks
from simulator.inbox import Message
from simulator.outcomes import AT_EXPIRY

log = logging.getLogger("simulator.reports")

_ATTEMPTS = 8


class ReportSender:
    def __init__(
        self, http: httpx.AsyncClient, url: str, secret: str, delay: float, expiry_scale: float
    ) -> None:
        self._http = http
        self._expiry_scale = expiry_scale
        self._url = url
        self._key = standard_webhooks.secret_key(secret)
        self._delay = delay
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(
        self, message: Message, reports: tuple[tuple[float, str], ...], validity_seconds: float
    ) -> None:
        for delay, state in reports:
            wait = (
                validity_seconds * self._expiry_scale if delay == AT_EXPIRY else delay * self._delay
            )
            task = asyncio.create_task(self._send_later(message, state, wait))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send_later(self, message: Message, state: str, wait: float) -> None:
        await asyncio.sleep(wait)
        body = json.dumps(
            {
                "reference": message.reference,
                "messageId": message.id,
                "channel": message.channel,
                "status": state,
                "recipient": message.to,
                "timestamp": datetime.now(UTC).isoformat(),
            }
        ).encode()
        webhook_id = f"msg_{uuid.uuid4().hex}"
        for attempt in range(_ATTEMPTS):
            if await self._post(webhook_id, body):
                message.reports.append(state)
                return
            await asyncio.sleep(min(0.2 * 2**attempt, 10.0))
        log.error("report %s for %s given up after %d attempts", state, message.id, _ATTEMPTS)

    async def _post(self, webhook_id: str, body: bytes) -> bool:
        # A retry is a new delivery attempt of the same webhook: same id, fresh timestamp.
        headers = standard_webhooks.signed_headers(self._key, webhook_id, body)
        try:
            response = await self._http.post(self._url, content=body, headers=headers, timeout=5)
        except httpx.TransportError as exc:
            log.warning("report webhook unreachable: %s", type(exc).__name__)
            return False
        if response.status_code >= 500 or response.status_code == 429:
            return False
        if response.status_code >= 400:
            log.error("report webhook refused the report: %s", response.status_code)
        return True
