"""Email over SMTP: the handover is done when the server accepts the message; its settings
(`SMTP_…`). Its delivery reports, DSNs relayed over HTTP, are read by `gateways/dsn.py`."""

import contextlib
import re
import ssl
from dataclasses import dataclass, replace
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

import aiosmtplib
from pydantic import Field
from pydantic_settings import BaseSettings

from core.metrics import count_smtp_connection
from gateways.base import (
    EmailSend,
    GatewayContext,
    GatewayUnavailable,
    HandoverAmbiguous,
    Outcome,
    Receipt,
    ascii_domain,
    section_config,
)
from gateways.dsn import DsnReports
from gateways.html_text import alternatives
from gateways.smtp_connections import IDLE_SECONDS, IdleConnections, SmtpClient

PROVIDER = "smtp"
# Reply codes that say the address itself is unusable, as opposed to a refusal of the message.
_BAD_ADDRESS = frozenset({501, 553})
# Refusals about us, not the recipient or the message, by their RFC 3463 enhanced code (first
# in a reply's text): our sender's address (X.1.7, X.1.8, X.7.27), authentication and our
# account (X.7.0, X.7.8, X.7.9, X.7.11, X.7.13, X.7.14), our domain's SPF, DKIM or DMARC
# (X.7.20 to X.7.26). X.7.1 is also a refusal of the content or of the recipient, so it
# counts only where the text names relaying or the sender: Postfix refuses relaying and a
# sender the login may not use at RCPT, as if of the recipient.
_ABOUT_US = re.compile(
    r"[45]\.(?:1\.[78]|7\.(?:0|8|9|11|13|14|2[0-7]))(?![0-9.])"
    r"|[45]\.7\.1(?![0-9.]).*\b(?:relay(?:ing)?|sender)\b",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: Literal["none", "starttls", "implicit"] = "none"
    username: str = ""
    password: str = ""
    ca_file: str = ""  # trust for a private CA; empty: the system's trust store


class SmtpEmail:
    def __init__(
        self,
        server: SmtpServer,
        timeout_seconds: float,
        message_id_domain: str = "notifications.local",
        deduplicates: bool = False,
        request_dsn: bool = False,
        idle_seconds: float = 0.0,
        name: str = PROVIDER,
    ) -> None:
        # Plain SMTP has no such thing; the simulator's server recognises a Message-ID again.
        self.deduplicates = deduplicates
        self._server = server
        self._timeout = timeout_seconds
        self._domain = message_id_domain
        self._request_dsn = request_dsn
        self._name = name
        self._connections = IdleConnections(idle_seconds)
        # Built once: loading the trust store takes tens of milliseconds, and a context serves
        # any number of connections.
        self._tls = (
            None
            if server.tls == "none"
            else ssl.create_default_context(cafile=server.ca_file or None)
        )

    def reference_of(self, message: EmailSend) -> str:
        return _message_id(message, self._domain)

    async def send_email(self, message: EmailSend) -> Receipt:
        # In the forms the headers and the envelope both carry.
        message = replace(message, sender=ascii_domain(message.sender), to=ascii_domain(message.to))
        mail = self._compose(message)
        kept = self._connections.take()
        if kept is not None:
            count_smtp_connection(self._name, "kept")
            with contextlib.suppress(_NotSent):
                return await self._attempt(kept, mail, message, opened=True)
            count_smtp_connection(self._name, "replaced")
        count_smtp_connection(self._name, "opened")
        return await self._attempt(self._client(), mail, message, opened=False)

    async def _attempt(
        self, client: SmtpClient, mail: EmailMessage, message: EmailSend, opened: bool
    ) -> Receipt:
        """`mail` on `client`, a new connection or one kept open (`opened`)."""
        try:
            if not opened:
                await client.connect()
                await client.greet()
            dsn = self._request_dsn and client.supports_extension("dsn")
            await client.send_message(
                mail,
                # The envelope from the order, never from a header as the email package read it.
                sender=message.sender,
                recipients=[message.to],
                # Delivery status notifications carry our reference as the envelope id.
                mail_options=[f"ENVID={message.reference}", "RET=HDRS"] if dsn else None,
                rcpt_options=["NOTIFY=SUCCESS,FAILURE"] if dsn else None,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            if opened and not client.data_sent and _replaceable(exc):
                # Nothing was sent, and a new connection gets the message.
                raise _NotSent from exc
            return _failure(exc, client.data_sent)
        except BaseException:
            # Not `async with`: on the way out it sends QUIT and waits for the answer, which a
            # server that hangs never gives, holding a cancelled handover for a full timeout.
            client.close()
            raise
        # A failed goodbye cannot make it a failure: the message was accepted already.
        self._connections.keep_or_quit(client)
        return Receipt(Outcome.ACCEPTED, gateway_reference=mail["Message-ID"])

    async def aclose(self) -> None:
        await self._connections.aclose()

    def _client(self) -> SmtpClient:
        server = self._server
        return SmtpClient(
            hostname=server.host,
            port=server.port,
            timeout=self._timeout,
            use_tls=server.tls == "implicit",
            start_tls=server.tls == "starttls",
            tls_context=self._tls,
            username=server.username or None,
            password=server.password or None,
        )

    def _compose(self, message: EmailSend) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = message.sender
        mail["To"] = message.to
        mail.set_raw("Subject", _folded_subject(message.subject))
        mail["Date"] = formatdate(localtime=False, usegmt=True)  # required by RFC 5322
        mail["Message-ID"] = self.reference_of(message)
        # No out-of-office or other automatic reply, which would land in the sender's mailbox,
        # the one relayed to the DSN route: RFC 3834, and Exchange's own header (MS-OXCMAIL
        # 2.1.3.2.20), which leaves its delivery and non-delivery reports (DR, NDR) on.
        mail["Auto-Submitted"] = "auto-generated"
        mail["X-Auto-Response-Suppress"] = "RN, NRN, OOF, AutoReply"
        text, html = alternatives(message.body, message.content_type)
        if text:
            mail.set_content(text)
        if html is not None and text:
            # multipart/alternative, the plain part first: readers show the last they can.
            mail.add_alternative(html, subtype="html")
        elif html is not None:
            mail.set_content(html, subtype="html")
        return mail


class _NotSent(Exception):
    """A kept connection failed before the message went out."""


def _replaceable(exc: Exception) -> bool:
    """A kept connection's failure that a new one may not meet: the server closed it while
    idle, or takes no more on it (421). Not a refusal of the recipient, of DATA or of what the
    message needs, which a new connection would meet again, nor a timeout: it took the call's
    time already, and a second would leave the next provider none of the handover's deadline."""
    meets_again = (
        aiosmtplib.SMTPRecipientsRefused
        | aiosmtplib.SMTPDataError
        | aiosmtplib.SMTPNotSupported
        | TimeoutError
    )
    return not isinstance(exc, meets_again)


def _failure(exc: Exception, data_sent: bool) -> Receipt:
    """What a failed transaction means: a receipt, or GatewayUnavailable or HandoverAmbiguous."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        raise GatewayUnavailable(f"SMTP login refused: {exc.code}") from exc
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return _refusal(exc.recipients[0].code, exc.recipients[0].message)
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return _refusal(exc.code, exc.message)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if data_sent:
            # A reply it cannot read (no code, too long) to the message, which follows only
            # the server's 354: the server may have it.
            raise HandoverAmbiguous(f"SMTP reply to the message unreadable: {exc.code}") from exc
        # Refused before the message was addressed (the greeting, EHLO, STARTTLS, MAIL
        # FROM): this server takes no message now, whoever it is for; another provider may.
        # So may one whose reply to RCPT or DATA was unreadable: the message did not go.
        raise GatewayUnavailable(f"SMTP server refused before the message: {exc.code}") from exc
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        # e.g. a non-ASCII local part to a server without SMTPUTF8: retrying cannot help, but
        # another provider may carry it.
        return Receipt(Outcome.REFUSED, detail=str(exc), elsewhere=True)
    reason = type(exc).__name__
    if data_sent:
        raise HandoverAmbiguous(f"SMTP server lost after the message: {reason}") from exc
    raise GatewayUnavailable(f"SMTP server unreachable: {reason}") from exc


def _message_id(message: EmailSend, domain: str) -> str:
    """Our reference, so that a server or a re-send recognises the message, then its shipment's
    id, the same for every attempt of one order and new for every order. A mailbox that keeps
    one message per Message-ID (Gmail) would otherwise drop a later order's message under a
    key used again after retention, and anyone who can work out an order's reference from a
    predictable idempotencyId could send a message under that id first, and so suppress it.
    The id's last 16 hex digits (62 random bits) keep the header within a 78-character line."""
    unique = message.shipment_id.replace("-", "")[-16:]
    left = f"{message.reference}.{unique}" if unique else message.reference
    return f"<{left}@{domain}>"


def _folded_subject(subject: str) -> str:
    """The subject as RFC 2047 encoded words on lines of at most 78 characters, stored as is.

    Every space sits inside an encoded word, so a reader gets the subject back exactly. The email
    package's own folding puts a space between two encoded words, where readers must drop it
    (RFC 2047 section 6.2; CPython gh-144156), and leaves text that looks like an encoded word
    unencoded, so a reader would decode it.
    """
    return Header(subject, "utf-8", header_name="Subject").encode(linesep="\n")


def _refusal(code: int, text: str) -> Receipt:
    if 400 <= code < 500:
        # Without the server's exception as its context: it names the recipient, and a
        # traceback (a log's, a trace's exception event) would show it.
        raise GatewayUnavailable(f"SMTP temporary refusal {code}") from None
    if _ABOUT_US.match(text.lstrip()):
        # Another provider may take it; if none does, this refusal is the answer.
        return Receipt(Outcome.REFUSED, detail=f"{code} {text}", elsewhere=True)
    outcome = Outcome.INVALID_RECIPIENT if code in _BAD_ADDRESS else Outcome.REFUSED
    return Receipt(outcome, detail=f"{code} {text}")


class SmtpSettings(BaseSettings):
    """`SMTP_HOST`, `SMTP_PORT`, `SMTP_TLS`, AUTH (`SMTP_USERNAME`, `SMTP_PASSWORD`), a private
    CA (`SMTP_CA_FILE`), the `?code=` of the DSN route (`SMTP_REPORT_SECRET`), which also
    makes the sender ask for DSNs, and how long a connection waits open for the next message
    (`SMTP_IDLE_SECONDS`; 0: a connection per message)."""

    model_config = section_config("SMTP_")

    host: str = "localhost"
    port: int = 587
    tls: Literal["none", "starttls", "implicit"] = "starttls"
    username: str = ""
    password: str = ""
    ca_file: str = ""
    report_secret: str = ""
    # Longer, and one a NAT or firewall forgot would hold a handover for its timeout.
    idle_seconds: float = Field(default=IDLE_SECONDS, ge=0, le=300)

    def email_gateway(self, context: GatewayContext) -> SmtpEmail:
        server = SmtpServer(
            self.host, self.port, self.tls, self.username, self.password, self.ca_file
        )
        # Only where the DSN route is set up: otherwise they would fill the sender's mailbox.
        return SmtpEmail(
            server,
            context.timeout_seconds,
            request_dsn=bool(self.report_secret),
            idle_seconds=self.idle_seconds,
            name=context.name,
        )

    def report_reader(self, context: GatewayContext) -> DsnReports:
        return DsnReports(context.name, self.report_secret)
