"""SMTP's own delivery reports: delivery status notifications (RFC 3464), relayed to us over HTTP.

An SMTP server mails a DSN to the envelope sender; that mailbox's inbound hook (an MTA pipe, an
inbound-parse webhook) posts the raw message here. The envelope id we gave (`ENVID`) comes back
as `Original-Envelope-Id`, so a DSN is matched by our own reference.
"""

import email
import hashlib
from datetime import UTC, datetime
from email.message import Message

from domain.reports import DeliveryReport
from domain.statuses import ShipmentStatus
from gateways.base import InboundReport, ReadReports, ReportReader, ReportUnreadable
from gateways.credentials import require_code
from gateways.mail_outline import outline

# RFC 3464 `Action` → our status; delayed, relayed and expanded decide nothing.
ACTIONS: dict[str, ShipmentStatus] = {
    "delivered": ShipmentStatus.EMAIL_DELIVERED,
    "failed": ShipmentStatus.EMAIL_FAILED_BOUNCED,
}
PENDING_ACTIONS = frozenset({"delayed", "relayed", "expanded"})


class DsnReports(ReportReader):
    def __init__(self, provider: str, secret: str) -> None:
        self._provider = provider
        self._secret = secret

    def read(self, inbound: InboundReport) -> ReadReports:
        require_code(inbound.url, self._secret)
        message = email.message_from_bytes(inbound.body)
        report_id = _report_id(message, inbound.body)
        envelope, recipients = _status_blocks(message)
        reference = _field(envelope, "Original-Envelope-Id")
        if not reference:
            raise ReportUnreadable("a DSN without Original-Envelope-Id")
        proof = _returned_message_id(message)
        reports = [
            _report(self._provider, reference, block, report_id, proof) for block in recipients
        ]
        return ReadReports(reports, delivery_id=f"{self._provider}:{report_id}")

    def kept(self, body: bytes) -> bytes:
        """Whatever this mail is, only its outline: the mailbox relayed here also gets
        out-of-office replies and whole returned messages."""
        return outline(email.message_from_bytes(body))


def _status_blocks(report: Message) -> tuple[Message, list[Message]]:
    if report.get_content_type() != "multipart/report":
        raise ReportUnreadable("not a multipart/report")
    for part in report.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = [b for b in part.get_payload() if isinstance(b, Message)]
            if len(blocks) >= 2:
                return blocks[0], blocks[1:]
    raise ReportUnreadable("no message/delivery-status part with a recipient")


def _report(
    provider: str, reference: str, block: Message, report_id: str, proof: str
) -> DeliveryReport:
    action = _field(block, "Action").lower()
    if action not in ACTIONS and action not in PENDING_ACTIONS:
        raise ReportUnreadable(f"unknown DSN action {action!r}")
    code = _field(block, "Status")
    return DeliveryReport(
        reference=reference,
        provider=provider,
        provider_status=f"{action} {code}".strip(),
        status=ACTIONS.get(action),
        received_at=datetime.now(UTC),
        report_id=report_id,
        proof=proof,
    )


def _returned_message_id(report: Message) -> str:
    """The Message-ID of the message the DSN is about, from the headers it returns (RET=HDRS:
    `text/rfc822-headers`, or a whole `message/rfc822`); empty when it returns none. Our
    Message-ID holds the shipment's random id: anyone can mail this route, but only the mail
    servers and the recipient saw it."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            returned = email.message_from_bytes(payload if isinstance(payload, bytes) else b"")
            return _field(returned, "Message-ID")
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return _field(inner[0], "Message-ID")
    return ""


def _field(block: Message, name: str) -> str:
    # A field with 8-bit bytes comes back as an email.header.Header, not a str.
    return str(block.get(name) or "").strip()


def _report_id(message: Message, raw: bytes) -> str:
    header = message.get("Message-ID")
    return str(header).strip("<> ") if header else hashlib.sha256(raw).hexdigest()[:40]
