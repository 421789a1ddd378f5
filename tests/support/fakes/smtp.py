"""A local SMTP submission server: STARTTLS or implicit TLS, AUTH LOGIN/PLAIN, and DSN.

For each accepted message that asked for notifications (RFC 3461 `ENVID`, `NOTIFY`), it posts a
delivery status notification (RFC 3464) to `report_url`, as the sender mailbox's inbound hook
would relay the DSN the server mails back.
"""

import asyncio
import contextlib
import email
import email.policy
import ssl
import uuid
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from devstack.processes import free_port
from tests.support.fakes.background import Background

# Local parts that decide what the server does.
_RCPT_REPLIES = {
    "invalid": "553 5.1.3 Error: malformed address",
    "rejected": "550 5.1.1 Mailbox unavailable",
    "busy": "451 4.3.0 Try again later",
    # Postfix's refusals of the relay's client or sender, made at RCPT (smtpd_delay_reject).
    "relaydenied": "554 5.7.1 <relaydenied@example.no>: Relay access denied",
    "notowned": "553 5.7.1 <noreply@example.no>: Sender address rejected: not owned by user",
}
# Senders' local parts the server refuses at MAIL FROM, as a server wanting AUTH does.
_MAIL_REPLIES = {"unauthenticated": "530 5.7.0 Authentication required"}
_DSN = {"bounced": ("failed", "5.1.1"), "default": ("delivered", "2.0.0")}


@dataclass
class Received:
    mail_from: str
    rcpt_to: str
    content: bytes
    envid: str | None
    auth: str | None
    tls: bool


class _DsnSmtp(SMTP):
    """aiosmtpd does not know RFC 3461's parameters: take them off and remember them."""

    envid: str | None = None
    messages = 0  # taken on this connection

    async def smtp_MAIL(self, arg: str) -> None:  # noqa: N802  (aiosmtpd's command name)
        self.envid = None
        kept = []
        for param in (arg or "").split(" "):
            name, _, value = param.partition("=")
            if name.upper() == "ENVID":
                self.envid = value
            elif name.upper() != "RET":
                kept.append(param)
        await super().smtp_MAIL(" ".join(kept))

    async def smtp_RCPT(self, arg: str) -> None:  # noqa: N802
        kept = [p for p in (arg or "").split(" ") if p.partition("=")[0].upper() != "NOTIFY"]
        await super().smtp_RCPT(" ".join(kept))


@dataclass
class FakeSmtp:
    username: str = "mailer"
    password: str = "mail-secret"
    report_url: str = ""
    received: list[Received] = field(default_factory=list)
    notifications: list[httpx.Response] = field(default_factory=list)
    refused_logins: int = 0
    silent_goodbye: bool = False  # hang up on QUIT instead of answering it
    slow_goodbye: asyncio.Event | None = None  # answer QUIT only once this is set
    unresponsive: bool = False  # never answer MAIL FROM, as a server that hung
    # A message to drop@ is taken, then its line breaks, without an answer, once this is set.
    line_breaks: asyncio.Event | None = None
    # Above this many messages on one connection, MAIL gets 421 (0: no limit), as servers do.
    messages_per_connection: int = 0
    pipelining: bool = True  # offered in EHLO (RFC 2920), as servers do
    goodbyes: int = 0
    sessions: list[SMTP] = field(default_factory=list)  # one per connection taken
    background: Background = field(default_factory=Background)

    @contextlib.asynccontextmanager
    async def running(
        self,
        tls: str,
        context: ssl.SSLContext | None,
        mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
    ) -> AsyncIterator[int]:
        """Serve with `tls` = "starttls" (required before AUTH), "implicit", or "none" (no TLS
        and no AUTH, as many private relays)."""
        port = free_port()

        def protocol() -> SMTP:
            with warnings.catch_warnings():
                # aiosmtpd cannot see implicit TLS and warns of AUTH without TLS; it is TLS
                # from the first byte.
                warnings.simplefilter("ignore", UserWarning)
                session = _DsnSmtp(
                    self,
                    hostname="fake-smtp.local",
                    tls_context=context if tls == "starttls" else None,
                    require_starttls=tls == "starttls",
                    authenticator=self._authenticate,
                    auth_required=tls != "none",
                    auth_require_tls=tls == "starttls",
                    auth_exclude_mechanism=[m for m in ("LOGIN", "PLAIN") if m not in mechanisms],
                )
            self.sessions.append(session)
            return session

        implicit = context if tls == "implicit" else None
        loop = asyncio.get_running_loop()
        server = await loop.create_server(protocol, "127.0.0.1", port, ssl=implicit)
        try:
            yield port
        finally:
            server.close()
            await server.wait_closed()

    @property
    def connections(self) -> int:
        return len(self.sessions)

    def hang_up(self) -> None:
        """Close every connection, as a server does with one idle too long."""
        for session in self.sessions:
            if session.transport is not None:
                session.transport.close()

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.goodbyes += 1
        if self.silent_goodbye:
            server.transport.abort()
        if self.slow_goodbye is not None:
            await self.slow_goodbye.wait()
        return "221 Bye"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            self.username.encode(),
            self.password.encode(),
        )
        if not ok:
            self.refused_logins += 1
        # handled=False: aiosmtpd answers 535 itself (its default leaves the client waiting).
        return AuthResult(success=ok, handled=False, auth_data=mechanism)

    async def handle_EHLO(  # noqa: N802  (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        offered = ["250-DSN", *(["250-PIPELINING"] if self.pipelining else [])]
        return [*responses[:-1], *offered, responses[-1]]

    async def handle_MAIL(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = _MAIL_REPLIES.get(address.partition("@")[0])
        if reply:
            return reply
        if self.unresponsive:
            await asyncio.Event().wait()
        if 0 < self.messages_per_connection <= server.messages:
            return "421 4.7.0 Too many messages on this connection, closing"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = _RCPT_REPLIES.get(address.partition("@")[0])
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        local = envelope.rcpt_tos[0].partition("@")[0]
        if local == "filtered":
            # A content filter's refusal that quotes what a reader would see: the plain part.
            return f"550 5.7.1 Content rejected: {_plain_text(envelope.original_content)}"
        if local == "garbled":
            # A reply without a code (a proxy's words) that quotes the message all the same.
            return f"Message held: {_plain_text(envelope.original_content)}"
        tls = server.transport.get_extra_info("sslcontext") is not None
        received = Received(
            str(envelope.mail_from),
            envelope.rcpt_tos[0],
            envelope.original_content,
            server.envid,
            session.auth_data,
            tls,
        )
        self.received.append(received)
        server.messages += 1
        if local == "drop":
            # Took the message, then the line broke before the answer; its DSN is the test's.
            if self.line_breaks is not None:
                await self.line_breaks.wait()
            server.transport.close()
            await asyncio.Event().wait()
        if received.envid and local != "silent" and self.report_url:
            self.background.start(self._notify(received, *_DSN.get(local, _DSN["default"])))
        return f"250 2.0.0 Ok: queued as {uuid.uuid4().hex[:10]}"

    async def _notify(self, received: Received, action: str, status: str) -> None:
        await asyncio.sleep(0.05)
        dsn = delivery_status_notification(received, action, status)
        async with httpx.AsyncClient() as http:
            response = await http.post(
                self.report_url, content=dsn, headers={"Content-Type": "message/rfc822"}
            )
        self.notifications.append(response)


def _plain_text(content: bytes) -> str:
    mail = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(mail, email.message.EmailMessage)
    part = mail.get_body(preferencelist=("plain",))
    return " ".join(str(part.get_content()).split()) if part is not None else ""


def delivery_status_notification(
    received: Received, action: str, status: str, message_id: str | None = None
) -> bytes:
    """A DSN as RFC 3464 lays it out: a human part, the delivery status, the original headers."""
    original = email.message_from_bytes(received.content, policy=email.policy.default)
    headers = "".join(f"{k}: {v}\r\n" for k, v in original.items())
    boundary = uuid.uuid4().hex
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@fake-smtp.local>\r\n"
        f"To: {received.mail_from}\r\n"
        f"Subject: Delivery Status Notification ({action})\r\n"
        f"Message-ID: <{message_id or f'{uuid.uuid4().hex}@fake-smtp.local'}>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain\r\n\r\n"
        f"Your message to {received.rcpt_to} was {action}.\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; fake-smtp.local\r\n"
        f"Original-Envelope-Id: {received.envid}\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {received.rcpt_to}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"{headers}"
        f"--{boundary}--\r\n"
    ).encode()
