"""Every message the simulator accepted, de-duplicated on the client reference."""

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class Message:
    id: str
    channel: str
    to: str
    sender: str
    body: str
    reference: str
    subject: str | None = None
    submissions: int = 1
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    reports: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "to": self.to,
            "sender": self.sender,
            "subject": self.subject,
            "body": self.body,
            "reference": self.reference,
            "submissions": self.submissions,
            "receivedAt": self.received_at.isoformat(),
            "reports": list(self.reports),
        }


class Inbox:
    def __init__(self) -> None:
        self._by_reference: dict[str, Message] = {}
        self._ids = itertools.count(1)

    def accept(
        self,
        channel: str,
        to: str,
        sender: str,
        body: str,
        reference: str,
        subject: str | None = None,
    ) -> tuple[Message, bool]:
        """Return the message and whether it is new; a known reference only counts a submission."""
        known = self._by_reference.get(reference)
        if known is not None:
            known.submissions += 1
            return known, False
        message = Message(
            id=f"sim-{next(self._ids)}",
            channel=channel,
            to=to,
            sender=sender,
            body=body,
            reference=reference,
            subject=subject,
        )
        self._by_reference[reference] = message
        return message, True

    def messages(self, to: str | None = None, reference: str | None = None) -> list[Message]:
        found = list(self._by_reference.values())
        if to is not None:
            found = [m for m in found if m.to == to]
        if reference is not None:
            found = [m for m in found if m.reference == reference]
        return sorted(found, key=lambda m: m.received_at, reverse=True)
