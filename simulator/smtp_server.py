"""The simulator's SMTP side: takes email like a provider's relay would."""

import asyncio
import email
import email.policy
from email.message import EmailMessage
from typing import Any

from simulator.config import SimulatorSettings
from simulator.inbox import Inbox
from simulator.outage import Outage
from simulator.outcomes import email_outcome
from simulator.reports import ReportSender


class SmtpHandler:
    """aiosmtpd handler: the recipient's local part decides the outcome."""

    def __init__(
        self,
        inbox: Inbox,
        reports: ReportSender,
        settings: SimulatorSettings,
        outage: Outage,
    ) -> None:
        self._inbox = inbox
        self._reports = reports
        self._settings = settings
        self._outage = outage

    async def handle_EHLO(  # noqa: N802  (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        """PIPELINING offered, as providers' relays do: aiosmtpd reads commands sent together
        one after another, but does not say so."""
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        outcome = email_outcome(address)
        if outcome.refuse:
            return outcome.refuse
        if outcome.unavailable or self._outage.active:
            return "451 4.3.0 Temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        to = envelope.rcpt_tos[0]
        outcome = email_outcome(to)
        message, new = self._inbox.accept(
            "Email",
            to,
            str(envelope.mail_from),
            _text(mail),
            _reference(mail),
            subject=str(mail.get("Subject", "")),
        )
        if outcome.hang:
            await asyncio.Event().wait()
        if outcome.slow:
            await asyncio.sleep(self._settings.slow_handover_seconds)
        if new:
            self._reports.schedule(message, outcome.reports, validity_seconds=0)
        return f"250 2.0.0 OK queued as {message.id}"


def _reference(mail: EmailMessage) -> str:
    """The sender's reference: the Message-ID's left part up to its shipment id, if any."""
    message_id = str(mail.get("Message-ID", "")).strip().strip("<>")
    return message_id.partition("@")[0].partition(".")[0] or f"no-message-id-{id(mail)}"


def _text(mail: EmailMessage) -> str:
    """The body as the order gave it (an HTML email's plain part is made from its HTML), its
    lines ended as text's are, not as on the wire."""
    part = mail.get_body(preferencelist=("html", "plain"))
    return str(part.get_content()).replace("\r\n", "\n") if part is not None else ""
