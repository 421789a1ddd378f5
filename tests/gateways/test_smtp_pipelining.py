"""MAIL, RCPT and DATA pipelined (RFC 2920) to servers that offer it: what goes out together, how
replies that arrive together or in pieces are read, what a failure before the 354 means, and a
line cut anywhere in a handover, with and without PIPELINING."""

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
import uvloop

from domain.orders import ContentType
from gateways.base import EmailSend, GatewayUnavailable, Outcome, Receipt
from gateways.smtp import SmtpEmail, SmtpServer
from tests.support.cuts import AMBIGUOUS, NOT_SENT, broken_promises, cut_in_turn
from tests.support.fakes.smtp import FakeSmtp
from tests.support.fakes.tcp_proxy import Proxy, proxied
from tests.support.polling import eventually
from tests.support.postfix import RECIPIENTS, running_postfix

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def email(n: int, body: str = "123456") -> EmailSend:
    return EmailSend(
        f"ref{n:04}", "kari@example.no", "noreply@example.no", "Your code", body, ContentType.PLAIN
    )


@pytest.mark.parametrize("offered", [True, False])
async def test_mail_rcpt_and_data_go_together_where_the_server_offers_it(offered: bool) -> None:
    fake = FakeSmtp(pipelining=offered)
    async with fake.running("none", None) as port, proxied(port) as proxy:
        smtp = SmtpEmail(SmtpServer("127.0.0.1", proxy.port), 5.0, idle_seconds=30)
        for n in range(2):
            assert (await smtp.send_email(email(n))).outcome is Outcome.ACCEPTED
        await smtp.aclose()

    envelopes = [chunk for chunk in proxy.sent if chunk.startswith(b"MAIL FROM:")]
    together = [
        chunk
        for chunk in envelopes
        if b"\r\nRCPT TO:<kari@example.no>" in chunk and chunk.endswith(b"\r\nDATA\r\n")
    ]
    assert len(envelopes) == 2  # one connection, kept for the second message
    assert len(together) == (2 if offered else 0)
    ids = [str(message_from_bytes(r.content)["Message-ID"])[1:8] for r in fake.received]
    assert ids == ["ref0000", "ref0001"]


@contextlib.asynccontextmanager
async def scripted(
    answer: Answer, contents: list[bytes], pipelining: bool = True
) -> AsyncIterator[int]:
    """A server that offers PIPELINING (or not) and answers MAIL, RCPT and DATA as `answer`
    does; the content it is then sent goes to `contents` (without its final dot)."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 ready\r\n")
        await reader.readline()
        writer.write(b"250-scripted\r\n250 PIPELINING\r\n" if pipelining else b"250 scripted\r\n")
        await answer(reader, writer)
        lines = []
        while (line := await reader.readline()) not in (b".\r\n", b""):
            lines.append(line)
        if line:
            contents.append(b"".join(lines))
            writer.write(b"250 2.0.0 queued\r\n")
            await reader.readline()
            writer.write(b"221 bye\r\n")
        writer.close()

    listening = await asyncio.start_server(session, "127.0.0.1", 0)
    try:
        yield listening.sockets[0].getsockname()[1]
    finally:
        listening.close()


def written(replies: bytes, piecewise: bool = False) -> Answer:
    """The three commands taken, then `replies` written at once or a byte at a time."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(3):
            await reader.readline()
        for piece in [replies[i : i + 1] for i in range(len(replies))] if piecewise else [replies]:
            writer.write(piece)
            await writer.drain()
            if piecewise:
                await asyncio.sleep(0.001)  # a segment of its own

    return answer


async def handover(
    answer: Answer, message: EmailSend | None = None, pipelining: bool = True
) -> tuple[Receipt, list[bytes]]:
    contents: list[bytes] = []
    async with scripted(answer, contents, pipelining) as port:
        receipt = await SmtpEmail(SmtpServer("127.0.0.1", port), 5.0).send_email(
            message or email(0)
        )
    return receipt, contents


ACCEPTING = b"250 2.1.0 OK\r\n250 2.1.5 OK\r\n354 End data with <CR><LF>.<CR><LF>\r\n"


@pytest.mark.parametrize(
    "answer",
    [
        written(ACCEPTING),
        written(ACCEPTING, piecewise=True),
        written(b"250-sender\r\n250 2.1.0 OK\r\n250-recipient\r\n250 OK\r\n354 go on\r\n"),
    ],
    ids=["in-one-write", "byte-by-byte", "multi-line"],
)
async def test_replies_are_read_however_they_arrive(answer: Answer) -> None:
    # A line of one dot would end the message early if it went out as it is.
    receipt, [content] = await handover(answer, email(0, "123456\n.\nnot the end"))

    assert receipt.outcome is Outcome.ACCEPTED
    assert b"\r\n..\r\nnot the end\r\n" in content


async def test_a_refused_recipient_sends_no_content() -> None:
    refused = written(
        b"250 OK\r\n550 5.1.1 Mailbox unavailable\r\n554 5.5.1 No valid recipients\r\n"
    )
    receipt, contents = await handover(refused)

    assert receipt.outcome is Outcome.REFUSED
    assert receipt.detail == "550 5.1.1 Mailbox unavailable"  # the recipient's refusal, not DATA's
    assert contents == []


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-at-a-time"])
@pytest.mark.parametrize("to_data", [None, b"go ahead\r\n"], ids=["line-lost", "unreadable"])
async def test_a_failure_before_the_354_is_known_not_sent(
    to_data: bytes | None, pipelining: bool
) -> None:
    """The content goes only after the 354: before it, the message is certainly not sent, so
    another provider may be asked."""

    async def each_in_turn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for reply in (b"250 OK\r\n", b"250 OK\r\n", to_data):
            await reader.readline()
            if reply is not None:
                writer.write(reply)
        writer.close()

    with pytest.raises(GatewayUnavailable):
        await handover(each_in_turn, pipelining=pipelining)


def test_a_kept_starttls_connection_pipelines_on_uvloop(
    certificate: tuple[ssl.SSLContext, Path],
) -> None:
    """The worker's event loop: the transport is handed to the replies' reader and back over
    TLS on uvloop's own transports."""

    async def two_messages() -> tuple[list[Receipt], FakeSmtp]:
        fake = FakeSmtp()
        async with fake.running("starttls", certificate[0]) as port:
            server = SmtpServer(
                "127.0.0.1", port, "starttls", fake.username, fake.password, str(certificate[1])
            )
            smtp = SmtpEmail(server, 5.0, idle_seconds=30)
            receipts = [await smtp.send_email(email(n)) for n in range(2)]
            await smtp.aclose()
        return receipts, fake

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        receipts, fake = runner.run(two_messages())

    assert [r.outcome for r in receipts] == [Outcome.ACCEPTED] * 2
    assert (fake.connections, len(fake.received), fake.goodbyes) == (1, 2, 1)


# A cut between the message and the server's 250 is ambiguous; one before the message went out
# is not sent on a new connection, and on a kept one it is sent again on a new connection.
KINDS = {True: {"ACCEPTED", AMBIGUOUS}, False: {"ACCEPTED", AMBIGUOUS, NOT_SENT}}


def references(messages: list[Message]) -> list[int]:
    return [int(str(m["Message-ID"])[4:8]) for m in messages]  # <ref0001.…@…>


@pytest.mark.parametrize("kept", [False, True], ids=["new-connection", "kept-connection"])
@pytest.mark.parametrize("offered", [True, False], ids=["pipelining", "one-at-a-time"])
async def test_a_line_cut_anywhere_never_sends_a_message_twice(
    kept: bool, offered: bool, certificate: tuple[ssl.SSLContext, Path]
) -> None:
    fake = FakeSmtp(pipelining=offered)
    async with fake.running("starttls", certificate[0]) as port, proxied(port) as proxy:
        server = SmtpServer(
            "127.0.0.1", proxy.port, "starttls", fake.username, fake.password, str(certificate[1])
        )
        outcomes = await sweep(SmtpEmail(server, 5.0, idle_seconds=30 * kept), proxy, kept)
        await asyncio.sleep(0.1)  # a message the server takes late counts too

    received = references([message_from_bytes(r.content) for r in fake.received])
    assert broken_promises(outcomes, received) == {}
    assert set(outcomes.values()) == KINDS[kept]


@pytest.mark.parametrize("kept", [False, True], ids=["new-connection", "kept-connection"])
async def test_a_line_to_postfix_cut_anywhere_never_sends_a_message_twice(kept: bool) -> None:
    """A real server, which queues a message at its final dot whatever becomes of the line."""
    async with running_postfix() as postfix, proxied(postfix.port) as proxy:
        smtp = SmtpEmail(SmtpServer("127.0.0.1", proxy.port, "none"), 5.0, idle_seconds=30 * kept)
        outcomes = await sweep(smtp, proxy, kept)
        accepted = list(outcomes.values()).count("ACCEPTED") + (len(outcomes) if kept else 0)

        async def all_accepted() -> list[Message] | None:
            delivered = postfix.mailbox(RECIPIENTS)
            return delivered if len(delivered) >= accepted else None

        # Delivered to the Maildir through the queue; then a while more for any that follow.
        await eventually(all_accepted)
        await asyncio.sleep(1.0)
        delivered, log = postfix.mailbox(RECIPIENTS), postfix.log()

    assert broken_promises(outcomes, references(delivered)) == {}
    assert set(outcomes.values()) == KINDS[kept]
    assert "improper command pipelining" not in log


async def sweep(smtp: SmtpEmail, proxy: Proxy, kept: bool) -> dict[int, str]:
    async def send(n: int) -> Receipt:
        return await smtp.send_email(email(n))

    outcomes = await cut_in_turn(send, proxy, send if kept else None)
    await smtp.aclose()
    return outcomes
