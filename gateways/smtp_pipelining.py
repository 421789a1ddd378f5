"""MAIL, RCPT and DATA in one round trip to a server that offers PIPELINING (RFC 2920): a message
on a kept connection takes two round trips instead of four. The message itself goes only once
the server has answered DATA with 354, so a failure before that still means nothing was sent."""

import asyncio
import re
from collections import deque
from collections.abc import Iterable

import aiosmtplib
from aiosmtplib.email import quote_address
from aiosmtplib.protocol import normalize_message_line_endings

# The replies to three commands; a server that streams more is broken, not slow.
MOST_BUFFERED = 32 * 1024
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_LEADING_DOT = re.compile(rb"(?m)^\.")


def envelope(
    sender: str,
    recipient: str,
    mail_options: Iterable[str],
    rcpt_options: Iterable[str],
) -> bytes:
    """MAIL FROM, RCPT TO and DATA, written at once."""
    utf8 = any(option.lower() == "smtputf8" for option in mail_options)
    encoding = "utf-8" if utf8 else "ascii"
    commands = [
        [b"MAIL", b"FROM:" + quote_address(sender).encode(encoding)],
        [b"RCPT", b"TO:" + quote_address(recipient).encode(encoding)],
        [b"DATA"],
    ]
    commands[0] += [option.encode("ascii") for option in mail_options]
    commands[1] += [option.encode("ascii") for option in rcpt_options]
    if any(_CONTROL.search(word) for command in commands for word in command):
        # A line break in an address would start a command of its own.
        raise ValueError("Command arg contains a prohibited control character")
    return b"".join(b" ".join(command) + b"\r\n" for command in commands)


def content(normalized: bytes) -> bytes:
    """The message as DATA carries it: lines starting with a dot doubled, then the final dot."""
    return _LEADING_DOT.sub(b"..", normalized) + b".\r\n"


def normalized(message: str | bytes) -> bytes:
    """The message with its lines ended as on the wire, the size that SIZE announces."""
    return normalize_message_line_endings(
        message.encode("ascii") if isinstance(message, str) else message
    )


class Replies(asyncio.Protocol):
    """Holds a connection for one transaction in place of aiosmtplib's protocol, which takes one
    reply per read from the socket and drops what arrives while no command waits: replies to
    commands sent together may arrive together."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._previous = transport.get_protocol()
        self._buffer = bytearray()
        self._replies: deque[aiosmtplib.SMTPResponse] = deque()
        self._arrived = asyncio.Event()
        self._failed: aiosmtplib.SMTPException | None = None
        self._lost: tuple[Exception | None] | None = None
        transport.set_protocol(self)

    def send(self, data: bytes) -> None:
        if self._transport.is_closing():
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        self._transport.write(data)

    async def next(self, wait: float | None) -> aiosmtplib.SMTPResponse:
        """The next reply in order, within `wait` seconds; one that came before the connection
        broke is still read."""
        try:
            async with asyncio.timeout(wait):
                while not self._replies:
                    if self._failed is not None:
                        raise self._failed
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError as exc:
            raise aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response") from exc
        return self._replies.popleft()

    async def envelope_taken(self, sender: str, recipient: str, wait: float | None) -> None:
        """The replies to MAIL, RCPT and DATA, read in order up to the first refusal."""
        reply = await self.next(wait)
        if reply.code != aiosmtplib.SMTPStatus.completed:
            raise aiosmtplib.SMTPSenderRefused(reply.code, reply.message, sender)
        reply = await self.next(wait)
        if reply.code not in (aiosmtplib.SMTPStatus.completed, aiosmtplib.SMTPStatus.will_forward):
            refused = aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, recipient)
            raise aiosmtplib.SMTPRecipientsRefused([refused])
        reply = await self.next(wait)
        if reply.code != aiosmtplib.SMTPStatus.start_input:
            raise aiosmtplib.SMTPDataError(reply.code, reply.message)

    def hand_back(self) -> None:
        """The connection back to aiosmtplib's protocol, told if it was lost meanwhile."""
        if self._lost is not None:
            self._previous.connection_lost(self._lost[0])
        else:
            self._transport.set_protocol(self._previous)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        try:
            self._parse()
        except aiosmtplib.SMTPResponseException as exc:
            self._fail(exc)

    def eof_received(self) -> bool:
        self._fail(aiosmtplib.SMTPServerDisconnected("Unexpected EOF received"))
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = (exc,)
        self._fail(aiosmtplib.SMTPServerDisconnected("Connection lost"))

    def _fail(self, exc: aiosmtplib.SMTPException) -> None:
        self._failed = self._failed or exc
        self._arrived.set()

    def _parse(self) -> None:
        """Every complete reply in the buffer, its lines joined as aiosmtplib joins them."""
        lines: list[bytes] = []
        start = 0
        while (end := self._buffer.find(b"\n", start)) >= 0:
            lines.append(bytes(self._buffer[start : end + 1]))
            start = end + 1
            if lines[-1][3:4] != b"-":
                self._replies.append(_reply(lines))
                self._arrived.set()
                del self._buffer[:start]
                lines, start = [], 0
        if len(self._buffer) > MOST_BUFFERED:
            raise aiosmtplib.SMTPResponseException(-1, "Response too long")


def _reply(lines: list[bytes]) -> aiosmtplib.SMTPResponse:
    if not lines[0][:3].isdigit():
        line = lines[0].decode("utf-8", "replace").strip()
        raise aiosmtplib.SMTPResponseException(-1, f"Malformed SMTP response line: {line}")
    text = b"\n".join(line[4:].strip(b" \t\r\n") for line in lines)
    return aiosmtplib.SMTPResponse(int(lines[0][:3]), text.decode("utf-8", "surrogateescape"))
