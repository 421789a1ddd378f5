"""SMTP connections kept open between messages: the next handover skips the connect, greeting,
STARTTLS, EHLO and AUTH round trips of a new connection, and the QUIT of the last one."""

import asyncio
import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal, cast

import aiosmtplib
from aiosmtplib.typing import Default

from gateways.smtp_pipelining import Replies, content, envelope, normalized

# Within the idle time servers allow (Postfix: 300 s; 10 s under stress, but a server that
# closes a connection costs nothing, as it is never taken), and short enough that no NAT
# forgets the connection, which would leave the next message waiting for the timeout.
IDLE_SECONDS = 30.0
# Enough for the handovers a worker runs at once; keeping more would only hold server sockets.
MOST_KEPT = 8
# Servers limit the messages of one connection (421 at MAIL); a new one now and then keeps
# clear of that without the round trips of a refusal.
MESSAGES_PER_CONNECTION = 100


class SmtpClient(aiosmtplib.SMTP):
    """Remembers whether the current message's content went out: a failure after that may have
    sent it."""

    data_sent = False
    messages = 0

    async def greet(self) -> None:
        """EHLO (HELO where the server knows no better), unless connecting did it already
        (STARTTLS, AUTH): the server's extensions are known only after it."""
        await self._ehlo_or_helo_if_needed()

    async def data(
        self,
        message: str | bytes,
        /,
        *,
        timeout: float | Literal[Default.token] | None = Default.token,  # noqa: ASYNC109  (aiosmtplib's)
    ) -> aiosmtplib.SMTPResponse:
        """DATA, then the message only once the server has answered 354: a failure before that
        sent nothing."""
        start = await self.execute_command(b"DATA", timeout=timeout)
        if start.code != aiosmtplib.SMTPStatus.start_input:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
        with self._replies() as replies:
            return await self._content(replies, normalized(message), self._wait(timeout))

    async def sendmail(
        self,
        sender: str,
        recipients: str | Sequence[str],
        message: str | bytes,
        /,
        *,
        mail_options: Iterable[str] | None = None,
        rcpt_options: Iterable[str] | None = None,
        timeout: float | Literal[Default.token] | None = Default.token,  # noqa: ASYNC109  (aiosmtplib's)
    ) -> tuple[dict[str, aiosmtplib.SMTPResponse], str]:
        """One recipient's message with MAIL, RCPT and DATA pipelined where the server offers
        it (RFC 2920); otherwise, or to several recipients, one command at a time."""
        # A message begins: on a kept connection, the last one's content went out long ago.
        self.data_sent = False
        to = [recipients] if isinstance(recipients, str) else list(recipients)
        if len(to) != 1 or not self.supports_extension("pipelining"):
            return await super().sendmail(
                sender,
                to,
                message,
                mail_options=mail_options,
                rcpt_options=rcpt_options,
                timeout=timeout,
            )
        lines = normalized(message)
        options = list(mail_options or [])
        if self.supports_extension("size"):
            options.insert(0, f"SIZE={len(lines)}")
        wait = self._wait(timeout)
        with self._replies() as replies:
            replies.send(envelope(sender, to[0], options, rcpt_options or []))
            await replies.envelope_taken(sender, to[0], wait)
            reply = await self._content(replies, lines, wait)
        return {}, reply.message

    async def _content(
        self, replies: Replies, lines: bytes, wait: float | None
    ) -> aiosmtplib.SMTPResponse:
        """The message, once DATA was answered 354, and the server's reply to it."""
        self.data_sent = True
        self.messages += 1
        replies.send(content(lines))
        reply = await replies.next(wait)
        if reply.code != aiosmtplib.SMTPStatus.completed:
            raise aiosmtplib.SMTPDataError(reply.code, reply.message)
        return reply

    @contextlib.contextmanager
    def _replies(self) -> Iterator[Replies]:
        """The connection held for a transaction's replies, handed back to aiosmtplib after it
        whatever happened."""
        transport = self.protocol and self.protocol.transport
        if transport is None:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        replies = Replies(cast(asyncio.Transport, transport))
        try:
            yield replies
        finally:
            replies.hand_back()

    def _wait(self, timeout: float | Literal[Default.token] | None) -> float | None:
        return self.timeout if timeout is Default.token else timeout


async def goodbye(client: SmtpClient) -> None:
    """QUIT, or just close where the server does not answer it."""
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


class IdleConnections:
    """Connections that delivered a message, kept `idle_seconds` for the next (0: none kept).
    The one used last is taken first: the likeliest still open."""

    def __init__(self, idle_seconds: float) -> None:
        self._idle_seconds = idle_seconds
        self._idle: list[tuple[float, SmtpClient]] = []
        self._sweep: asyncio.TimerHandle | None = None
        self._leaving: set[asyncio.Task[None]] = set()

    def take(self) -> SmtpClient | None:
        loop = asyncio.get_running_loop()
        while self._idle:
            _, client = self._idle.pop()
            if client.loop is not loop:
                continue  # of an event loop that has ended, which alone could close it
            # One the server hung up on is closed already; it is known only at the next read.
            if client.is_connected:
                return client
            client.close()
        return None

    def keep_or_quit(self, client: SmtpClient) -> None:
        """Keep the connection, or say goodbye on it while the handover goes on: the message
        was accepted, and a server slow to answer QUIT must not hold the answer to the caller
        past the handover's deadline."""
        kept = len(self._idle) < MOST_KEPT and client.messages < MESSAGES_PER_CONNECTION
        if self._idle_seconds <= 0 or not kept:
            self._leave(client)
            return
        self._idle.append((time.monotonic(), client))
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(self._idle_seconds, self._swept)

    async def aclose(self) -> None:
        """QUIT on every kept connection, as the worker stops."""
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        idle, self._idle = self._idle, []
        await asyncio.gather(*self._leaving, *(goodbye(client) for _, client in idle))

    def _swept(self) -> None:
        """QUIT on the connections idle too long: a server may drop them silently, and a
        command on one would then wait for the timeout. Then wait for the next to be due."""
        self._sweep = None
        loop = asyncio.get_running_loop()
        due = time.monotonic() - self._idle_seconds
        while self._idle and self._idle[0][0] <= due:
            _, client = self._idle.pop(0)
            self._leave(client)
        if self._idle:
            oldest, _ = self._idle[0]
            self._sweep = loop.call_later(oldest - due, self._swept)

    def _leave(self, client: SmtpClient) -> None:
        task = asyncio.get_running_loop().create_task(goodbye(client))
        self._leaving.add(task)
        task.add_done_callback(self._leaving.discard)
