"""The simulator as a webhook receiver: it records the events it is sent and checks their
signatures with the secrets it was given."""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateways import standard_webhooks
from gateways.base import ReportRejected

_TOLERANCE_SECONDS = 300


@dataclass
class ReceivedEvent:
    webhook_id: str
    type: str
    verified: bool
    body: dict[str, Any]
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_json(self) -> dict[str, Any]:
        return {
            "webhookId": self.webhook_id,
            "type": self.type,
            "verified": self.verified,
            "receivedAt": self.received_at.isoformat(),
            "event": self.body,
        }


class WebhookInbox:
    def __init__(self) -> None:
        self._keys: list[bytes] = []
        self._events: list[ReceivedEvent] = []

    def learn(self, secret: str) -> int:
        """Keep a subscription's secret (as its creation or rotation answered it)."""
        self._keys.append(standard_webhooks.secret_key(secret))
        return len(self._keys)

    def receive(self, headers: dict[str, str], body: bytes) -> ReceivedEvent:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = {"unreadable": body[:200].decode(errors="replace")}
        event = ReceivedEvent(
            webhook_id=headers.get("webhook-id", ""),
            type=str(parsed.get("type", "")) if isinstance(parsed, dict) else "",
            verified=self._verified(headers, body),
            body=parsed if isinstance(parsed, dict) else {"unreadable": str(parsed)[:200]},
        )
        self._events.append(event)
        return event

    def events(self) -> list[ReceivedEvent]:
        return sorted(self._events, key=lambda e: e.received_at, reverse=True)

    def _verified(self, headers: dict[str, str], body: bytes) -> bool:
        for key in self._keys:
            try:
                standard_webhooks.verify(key, headers, body, _TOLERANCE_SECONDS)
            except ReportRejected:
                continue
            return True
        return False
