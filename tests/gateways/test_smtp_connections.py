"""SMTP connections kept open between messages, against a local STARTTLS server with AUTH."""

import asyncio
import ssl
import threading
import uuid
from collections.abc import AsyncIterator
from email import message_from_bytes
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from domain.orders import ContentType
from gateways.base import EmailSend, GatewayUnavailable, HandoverAmbiguous, Outcome
from gateways.smtp import SmtpEmail, SmtpServer
from gateways.smtp_connections import MOST_KEPT
from tests.support.fakes.smtp import FakeSmtp


@pytest.fixture
async def served(
    certificate: tuple[ssl.SSLContext, Path],
) -> AsyncIterator[tuple[FakeSmtp, SmtpServer]]:
    fake = FakeSmtp()
    async with fake.running("starttls", certificate[0]) as port:
        ca = str(certificate[1])
        yield fake, SmtpServer("127.0.0.1", port, "starttls", fake.username, fake.password, ca)
    fake.hang_up()


def email(n: int, to: str = "kari@example.no") -> EmailSend:
    return EmailSend(
        f"ref{n:04}", to, "noreply@example.no", "Your code", "123456", ContentType.PLAIN
    )


def references(fake: FakeSmtp) -> list[str]:
    return [str(message_from_bytes(r.content)["Message-ID"])[1:8] for r in fake.received]


def used(provider: str) -> dict[str, float]:
    """notifications_smtp_connections_total of `provider`, by how."""
    return {
        how: REGISTRY.get_sample_value(
            "notifications_smtp_connections_total", {"provider": provider, "how": how}
        )
        or 0.0
        for how in ("opened", "kept", "replaced")
    }


async def test_messages_one_after_another_share_one_connection(
    served: tuple[FakeSmtp, SmtpServer],
) -> None:
    fake, server = served
    name = f"smtp-{uuid.uuid4().hex[:8]}"
    smtp = SmtpEmail(server, 5.0, idle_seconds=30, name=name)
    receipts = [await smtp.send_email(email(n)) for n in range(3)]

    assert [r.outcome for r in receipts] == [Outcome.ACCEPTED] * 3
    assert fake.connections == 1
    assert used(name) == {"opened": 1, "kept": 2, "replaced": 0}
    assert references(fake) == ["ref0000", "ref0001", "ref0002"]
    # Each went over TLS, logged in, on the one connection.
    assert all(r.tls and r.auth for r in fake.received)
    assert fake.goodbyes == 0


async def test_without_idle_seconds_each_message_has_a_connection_of_its_own(
    served: tuple[FakeSmtp, SmtpServer],
) -> None:
    fake, server = served
    smtp = SmtpEmail(server, 5.0, idle_seconds=0)
    for n in range(2):
        await smtp.send_email(email(n))
    await smtp.aclose()  # the goodbyes go on beside the handovers: until they are said

    assert (fake.connections, fake.goodbyes, len(fake.received)) == (2, 2, 2)


@pytest.mark.parametrize("noticed", [True, False])
async def test_a_connection_the_server_closed_while_idle_is_replaced_for_the_message(
    served: tuple[FakeSmtp, SmtpServer], noticed: bool
) -> None:
    """Noticed: the close came in before the next message, and the connection is not taken.
    Not: the next message's MAIL FROM finds it closed, and goes out on a new connection."""
    fake, server = served
    name = f"smtp-{uuid.uuid4().hex[:8]}"
    smtp = SmtpEmail(server, 5.0, idle_seconds=30, name=name)
    await smtp.send_email(email(0))
    fake.hang_up()
    if noticed:
        await asyncio.sleep(0.05)

    receipt = await smtp.send_email(email(1))

    assert receipt.outcome is Outcome.ACCEPTED
    assert fake.connections == 2
    assert references(fake) == ["ref0000", "ref0001"]
    # Operators see a kept connection that had to be replaced.
    replaced = {"opened": 2, "kept": 1, "replaced": 1}
    assert used(name) == ({"opened": 2, "kept": 0, "replaced": 0} if noticed else replaced)


async def test_a_connection_the_server_takes_no_more_on_is_replaced_for_the_message(
    served: tuple[FakeSmtp, SmtpServer],
) -> None:
    """421 at MAIL FROM on a kept connection: nothing was sent, so the message goes out on a
    new one, once, within the same handover."""
    fake, server = served
    fake.messages_per_connection = 1
    smtp = SmtpEmail(server, 5.0, idle_seconds=30)
    receipts = [await smtp.send_email(email(n)) for n in range(3)]

    assert [r.outcome for r in receipts] == [Outcome.ACCEPTED] * 3
    assert fake.connections == 3
    assert references(fake) == ["ref0000", "ref0001", "ref0002"]


async def test_a_kept_connection_that_times_out_is_not_replaced(
    served: tuple[FakeSmtp, SmtpServer],
) -> None:
    """The timeout took the call's time already: a new connection would take as long again,
    and leave the next provider none of the handover's deadline."""
    fake, server = served
    smtp = SmtpEmail(server, 0.5, idle_seconds=30)
    await smtp.send_email(email(0))
    fake.unresponsive = True

    with pytest.raises(GatewayUnavailable, match="Timeout"):
        await smtp.send_email(email(1))

    assert fake.connections == 1


async def test_a_refusal_on_a_kept_connection_is_the_answer(
    served: tuple[FakeSmtp, SmtpServer],
) -> None:
    """An answer about the recipient is not asked again on a new connection, and the
    connection is not kept after it."""
    fake, server = served
    smtp = SmtpEmail(server, 5.0, idle_seconds=30)
    await smtp.send_email(email(0))

    refused = await smtp.send_email(email(1, "rejected@example.no"))
    with pytest.raises(GatewayUnavailable, match="451"):
        await smtp.send_email(email(2, "busy@example.no"))
    await smtp.send_email(email(3))

    assert refused.outcome is Outcome.REFUSED
    # The first connection ended with the refusal, the second with the temporary one.
    assert fake.connections == 3
    assert references(fake) == ["ref0000", "ref0003"]


async def test_a_line_lost_after_data_on_a_kept_connection_is_ambiguous_and_not_sent_again(
    served: tuple[FakeSmtp, SmtpServer],
) -> None:
    fake, server = served
    smtp = SmtpEmail(server, 5.0, idle_seconds=30)
    await smtp.send_email(email(0))

    with pytest.raises(HandoverAmbiguous):
        await smtp.send_email(email(1, "drop@example.no"))

    assert fake.connections == 1


async def test_messages_at_once_each_get_a_connection_and_the_next_ones_reuse_them(
    served: tuple[FakeSmtp, SmtpServer],
) -> None:
    fake, server = served
    smtp = SmtpEmail(server, 5.0, idle_seconds=30)
    at_once = MOST_KEPT + 2

    first = await asyncio.gather(*(smtp.send_email(email(n)) for n in range(at_once)))
    second = await asyncio.gather(*(smtp.send_email(email(100 + n)) for n in range(at_once)))
    await smtp.aclose()

    assert {r.outcome for r in first + second} == {Outcome.ACCEPTED}
    assert len(fake.received) == 2 * at_once
    # MOST_KEPT of the first wave's connections were kept; the rest said goodbye, and the
    # kept ones as the gateway closed.
    assert fake.connections == at_once + 2
    assert fake.goodbyes == 2 + 2 + MOST_KEPT


async def test_an_idle_connection_says_goodbye_after_idle_seconds(
    served: tuple[FakeSmtp, SmtpServer],
) -> None:
    fake, server = served
    smtp = SmtpEmail(server, 5.0, idle_seconds=0.1)
    await smtp.send_email(email(0))
    assert fake.goodbyes == 0

    for _ in range(100):
        if fake.goodbyes:
            break
        await asyncio.sleep(0.02)

    assert fake.goodbyes == 1
    await smtp.send_email(email(1))
    assert fake.connections == 2


async def test_closing_says_goodbye_on_every_kept_connection(
    served: tuple[FakeSmtp, SmtpServer],
) -> None:
    fake, server = served
    smtp = SmtpEmail(server, 5.0, idle_seconds=30)
    await asyncio.gather(*(smtp.send_email(email(n)) for n in range(3)))
    assert (fake.connections, fake.goodbyes) == (3, 0)

    await smtp.aclose()

    assert fake.goodbyes == 3


def test_a_kept_connection_of_an_event_loop_that_ended_is_left_alone() -> None:
    """A gateway used again on a new event loop: the old loop's connection cannot be used or
    closed there, and the message goes out on a new one."""
    fake = FakeSmtp()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    ports: list[int] = []

    async def serve() -> None:
        async with fake.running("none", None) as port:
            ports.append(port)
            ready.set()
            await asyncio.Event().wait()

    serving = loop.create_task(serve())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        ready.wait(5)
        smtp = SmtpEmail(SmtpServer("127.0.0.1", ports[0]), 5.0, idle_seconds=30)
        first = asyncio.run(smtp.send_email(email(0)))
        second = asyncio.run(smtp.send_email(email(1)))
    finally:
        loop.call_soon_threadsafe(serving.cancel)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)

    assert (first.outcome, second.outcome) == (Outcome.ACCEPTED, Outcome.ACCEPTED)
    assert fake.connections == 2
