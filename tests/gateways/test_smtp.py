"""SMTP: STARTTLS and implicit TLS with AUTH against a local server, and DSN reports."""

import asyncio
import email as email_message
import ssl
import traceback
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from domain.orders import ContentType
from gateways.base import (
    EmailSend,
    GatewayUnavailable,
    HandoverAmbiguous,
    InboundReport,
    Outcome,
    ReportRejected,
    ReportUnreadable,
)
from gateways.dsn import DsnReports
from gateways.smtp import SmtpEmail, SmtpServer
from tests.support.fakes.smtp import FakeSmtp, Received, delivery_status_notification


def email(to: str = "kari@example.no", subject: str = "Your code") -> EmailSend:
    return EmailSend("ref0001", to, "noreply@example.no", subject, "123456", ContentType.PLAIN)


def server(port: int, tls: str, ca: Path | None, password: str = "mail-secret") -> SmtpServer:
    return SmtpServer("127.0.0.1", port, tls, "mailer", password, str(ca or ""))  # type: ignore[arg-type]


@pytest.fixture
async def starttls(certificate: tuple[ssl.SSLContext, Path]) -> AsyncIterator[tuple[FakeSmtp, int]]:
    fake = FakeSmtp()
    async with fake.running("starttls", certificate[0]) as port:
        yield fake, port


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
async def test_starttls_then_auth(certificate: tuple[ssl.SSLContext, Path], mechanism: str) -> None:
    fake = FakeSmtp()
    async with fake.running("starttls", certificate[0], mechanisms=(mechanism,)) as port:
        receipt = await SmtpEmail(server(port, "starttls", certificate[1]), 5).send_email(email())

    assert receipt.outcome is Outcome.ACCEPTED
    assert receipt.gateway_reference == "<ref0001@notifications.local>"
    [received] = fake.received
    assert (received.tls, received.auth, received.rcpt_to) == (True, mechanism, "kari@example.no")
    assert received.envid is None  # no DSN unless the report route is set up


async def test_implicit_tls_then_auth(certificate: tuple[ssl.SSLContext, Path]) -> None:
    fake = FakeSmtp()
    async with fake.running("implicit", certificate[0]) as port:
        receipt = await SmtpEmail(server(port, "implicit", certificate[1]), 5).send_email(email())

    assert receipt.outcome is Outcome.ACCEPTED
    assert [(r.tls, r.auth) for r in fake.received] == [(True, "PLAIN")]


@pytest.mark.parametrize(
    "subject",
    [
        ("Frist: 1. mai for æøå-søknad. " * 17)[:500],  # the email package's folding lost a space
        "Koden er =?utf-8?q?123456?= i dag",  # looks like an encoded word: a reader would decode it
        " Innrykk og  doble  mellomrom ",
        "x" * 2000,  # no space to fold at
        "😀 " * 1000,
    ],
    ids=["norwegian", "encoded-word-lookalike", "spaces", "one-word", "emoji"],
)
async def test_a_subject_arrives_exactly_on_lines_of_at_most_78(
    starttls: tuple[FakeSmtp, int], certificate: tuple[ssl.SSLContext, Path], subject: str
) -> None:
    fake, port = starttls
    await SmtpEmail(server(port, "starttls", certificate[1]), 5).send_email(email(subject=subject))

    raw = fake.received[-1].content
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert message_from_bytes(raw, policy=default_policy)["Subject"] == subject


async def test_dsn_is_requested_with_our_reference(
    starttls: tuple[FakeSmtp, int], certificate: tuple[ssl.SSLContext, Path]
) -> None:
    fake, port = starttls
    gateway = SmtpEmail(server(port, "starttls", certificate[1]), 5, request_dsn=True)
    await gateway.send_email(email())
    assert [r.envid for r in fake.received] == ["ref0001"]


async def test_dsn_is_requested_from_a_relay_without_tls_or_auth() -> None:
    """Without STARTTLS or AUTH nothing greets the server while connecting: the extensions it
    advertises (DSN) are known only after the handover's own EHLO."""
    fake = FakeSmtp()
    async with fake.running("none", None) as port:
        plain = SmtpServer("127.0.0.1", port)
        await SmtpEmail(plain, 5, request_dsn=True).send_email(email())

    assert [(r.envid, r.tls, r.auth) for r in fake.received] == [("ref0001", False, None)]


async def test_a_sender_at_an_international_domain_goes_in_its_ascii_form() -> None:
    """A server without SMTPUTF8 takes it: only a local part outside ASCII needs that."""
    fake = FakeSmtp()
    async with fake.running("none", None) as port:
        sent = replace(email(), sender="noreply@bølgen.no")
        receipt = await SmtpEmail(SmtpServer("127.0.0.1", port), 5).send_email(sent)

    [received] = fake.received
    assert receipt.outcome is Outcome.ACCEPTED
    assert received.mail_from == "noreply@xn--blgen-vua.no"
    header = message_from_bytes(received.content, policy=default_policy)["From"]
    assert header == "noreply@xn--blgen-vua.no"


async def test_a_local_part_outside_ascii_to_a_server_without_smtputf8_is_for_another() -> None:
    """This server cannot carry it, whoever asks again; another provider may."""
    fake = FakeSmtp()
    async with fake.running("none", None) as port:
        receipt = await SmtpEmail(SmtpServer("127.0.0.1", port), 5).send_email(email("kåre@x.no"))

    assert (receipt.outcome, receipt.elsewhere) == (Outcome.REFUSED, True)
    assert fake.received == []


async def test_the_message_carries_a_date(
    starttls: tuple[FakeSmtp, int], certificate: tuple[ssl.SSLContext, Path]
) -> None:
    """RFC 5322 requires an origination date; spam filters penalise its absence."""
    fake, port = starttls
    before = datetime.now(UTC).replace(microsecond=0)
    await SmtpEmail(server(port, "starttls", certificate[1]), 5).send_email(email())

    [received] = fake.received
    stamp = email_message.message_from_bytes(received.content)["Date"]
    assert stamp is not None
    assert before <= parsedate_to_datetime(stamp) <= datetime.now(UTC)


async def test_a_message_id_is_the_same_for_one_order_and_new_for_the_next(
    starttls: tuple[FakeSmtp, int], certificate: tuple[ssl.SSLContext, Path]
) -> None:
    """One order's attempts repeat its Message-ID; another order under the same key (after
    retention) has its own, which a mailbox keeping one message per Message-ID still shows."""
    fake, port = starttls
    gateway = SmtpEmail(server(port, "starttls", certificate[1]), 5)
    first, later = str(uuid.uuid4()), str(uuid.uuid4())
    for shipment in (first, first, later):
        await gateway.send_email(replace(email(), shipment_id=shipment))

    ids = [message_from_bytes(r.content)["Message-ID"] for r in fake.received]
    assert ids[0] == ids[1] == f"<ref0001.{first.replace('-', '')[-16:]}@notifications.local>"
    assert ids[2] == f"<ref0001.{later.replace('-', '')[-16:]}@notifications.local>"


async def test_the_message_asks_for_no_automatic_reply(
    starttls: tuple[FakeSmtp, int], certificate: tuple[ssl.SSLContext, Path]
) -> None:
    """A vacation responder does not answer an auto-generated message (RFC 3834); Exchange
    reads its own header, which must not suppress the delivery reports (DR, NDR) DSNs need."""
    fake, port = starttls
    await SmtpEmail(server(port, "starttls", certificate[1]), 5).send_email(email())

    mail = message_from_bytes(fake.received[-1].content, policy=default_policy)
    assert mail["Auto-Submitted"] == "auto-generated"
    suppressed = {v.strip() for v in str(mail["X-Auto-Response-Suppress"]).split(",")}
    assert suppressed == {"RN", "NRN", "OOF", "AutoReply"}


async def test_an_html_email_carries_its_text_as_the_plain_alternative(
    starttls: tuple[FakeSmtp, int], certificate: tuple[ssl.SSLContext, Path]
) -> None:
    """A reader that shows no HTML (a text client, a lock screen's preview) shows the plain
    part; one that does shows the last part it can, the HTML as the order gave it."""
    fake, port = starttls
    html = "<p>Your code is <b>123456</b>.</p><p>Kode: æøå</p>"
    order = replace(email(), body=html, content_type=ContentType.HTML)
    await SmtpEmail(server(port, "starttls", certificate[1]), 5).send_email(order)

    mail = message_from_bytes(fake.received[-1].content, policy=default_policy)
    assert mail.get_content_type() == "multipart/alternative"
    plain, rich = mail.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content().splitlines() == ["Your code is 123456.", "", "Kode: æøå"]
    assert rich.get_content_type() == "text/html"
    assert rich.get_content().splitlines() == [html]


@pytest.mark.parametrize(
    ("body", "kind", "content_type"),
    [
        ("Your code is 123456", ContentType.PLAIN, "text/plain"),
        ('<img src="cid:logo">', ContentType.HTML, "text/html"),  # no text to show
    ],
)
async def test_an_email_with_one_form_is_sent_as_one_part(
    starttls: tuple[FakeSmtp, int],
    certificate: tuple[ssl.SSLContext, Path],
    body: str,
    kind: ContentType,
    content_type: str,
) -> None:
    fake, port = starttls
    order = replace(email(), body=body, content_type=kind)
    await SmtpEmail(server(port, "starttls", certificate[1]), 5).send_email(order)

    mail = message_from_bytes(fake.received[-1].content, policy=default_policy)
    assert mail.get_content_type() == content_type
    assert mail.get_content().splitlines() == [body]


async def test_refused_login_is_unavailable(
    starttls: tuple[FakeSmtp, int], certificate: tuple[ssl.SSLContext, Path]
) -> None:
    fake, port = starttls
    gateway = SmtpEmail(server(port, "starttls", certificate[1], password="wrong"), 5)
    with pytest.raises(GatewayUnavailable, match="login"):
        await gateway.send_email(email())
    assert fake.refused_logins > 0
    assert fake.received == []


async def test_untrusted_certificate_is_unavailable(starttls: tuple[FakeSmtp, int]) -> None:
    fake, port = starttls
    with pytest.raises(GatewayUnavailable):
        await SmtpEmail(server(port, "starttls", None), 5).send_email(email())
    assert fake.received == []


async def test_a_sender_refused_at_mail_from_is_unavailable() -> None:
    """Refused before the message was addressed (here: AUTH wanted), nothing was taken: the
    next provider is asked, and the refusal counts towards this one's circuit."""
    fake = FakeSmtp()
    sent = replace(email(), sender="unauthenticated@example.no")
    async with fake.running("none", None) as port:
        with pytest.raises(GatewayUnavailable, match="530"):
            await SmtpEmail(SmtpServer("127.0.0.1", port), 5).send_email(sent)

    assert fake.received == []


async def test_a_server_refusing_its_greeting_is_unavailable() -> None:
    """`554 no SMTP service here`, as a server that has put our address on a blocklist."""

    async def refuse(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"554 5.3.2 no SMTP service here\r\n")
        await writer.drain()
        writer.close()

    listening = await asyncio.start_server(refuse, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        with pytest.raises(GatewayUnavailable, match="554"):
            await SmtpEmail(SmtpServer("127.0.0.1", port), 5).send_email(email())
    finally:
        listening.close()


async def test_an_unreadable_reply_to_the_message_is_ambiguous() -> None:
    """The server has the whole message when it answers the final dot: a reply without a code
    (a proxy's, say) must not count as "not taken", or the next provider sends it again."""

    async def garbled(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 ready\r\n")
        in_data = False
        while line := await reader.readline():
            if in_data:
                if line == b".\r\n":
                    writer.write(b"queued as ABC123\r\n")  # no reply code
                    in_data = False
                continue
            command = line[:4].upper()
            in_data = command == b"DATA"
            writer.write(b"354 go on\r\n" if in_data else b"250 OK\r\n")
            await writer.drain()
        writer.close()

    listening = await asyncio.start_server(garbled, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        with pytest.raises(HandoverAmbiguous):
            await SmtpEmail(SmtpServer("127.0.0.1", port), 5).send_email(email())
    finally:
        listening.close()


@pytest.mark.parametrize(
    ("local", "outcome", "elsewhere"),
    [
        ("invalid", Outcome.INVALID_RECIPIENT, False),
        ("rejected", Outcome.REFUSED, False),
        # Refusals of our relay client or sender, not of the recipient: another provider may
        # take the message, and 553 says nothing of the recipient's address here.
        ("relaydenied", Outcome.REFUSED, True),
        ("notowned", Outcome.REFUSED, True),
        # 5.7.1 of the content is the message's own refusal: no other provider for it.
        ("filtered", Outcome.REFUSED, False),
    ],
)
async def test_permanent_refusals(
    starttls: tuple[FakeSmtp, int],
    certificate: tuple[ssl.SSLContext, Path],
    local: str,
    outcome: Outcome,
    elsewhere: bool,
) -> None:
    _, port = starttls
    gateway = SmtpEmail(server(port, "starttls", certificate[1]), 5)
    receipt = await gateway.send_email(email(f"{local}@example.no"))
    assert (receipt.outcome, receipt.elsewhere) == (outcome, elsewhere)


async def test_temporary_refusal_is_unavailable(
    starttls: tuple[FakeSmtp, int], certificate: tuple[ssl.SSLContext, Path]
) -> None:
    _, port = starttls
    with pytest.raises(GatewayUnavailable, match="451") as refused:
        await SmtpEmail(server(port, "starttls", certificate[1]), 5).send_email(email("busy@x.no"))

    # The exceptions its traceback shows (a log's, a trace's exception event) name neither
    # the recipient nor the server's words about it (aiosmtplib's own exception has both).
    told = "".join(
        line
        for shown in traceback.TracebackException.from_exception(refused.value).format()
        for line in shown.splitlines(keepends=True)
        if not line.startswith("  ")  # the source lines of the frames, this test's among them
    )
    assert "451" in told
    assert "busy@x.no" not in told
    assert "Try again later" not in told


async def test_a_line_lost_after_data_is_ambiguous(
    starttls: tuple[FakeSmtp, int], certificate: tuple[ssl.SSLContext, Path]
) -> None:
    _, port = starttls
    gateway = SmtpEmail(server(port, "starttls", certificate[1]), 5)
    with pytest.raises(HandoverAmbiguous):
        await gateway.send_email(email("drop@example.no"))


async def test_a_lost_goodbye_after_acceptance_is_still_accepted(
    starttls: tuple[FakeSmtp, int], certificate: tuple[ssl.SSLContext, Path]
) -> None:
    fake, port = starttls
    fake.silent_goodbye = True
    receipt = await SmtpEmail(server(port, "starttls", certificate[1]), 5).send_email(email())
    assert receipt.outcome is Outcome.ACCEPTED
    assert len(fake.received) == 1


async def test_an_accepted_message_is_answered_without_waiting_for_the_goodbye(
    starttls: tuple[FakeSmtp, int], certificate: tuple[ssl.SSLContext, Path]
) -> None:
    """A server slow to answer QUIT must not hold the caller's answer past the deadline."""
    fake, port = starttls
    fake.slow_goodbye = asyncio.Event()
    gateway = SmtpEmail(server(port, "starttls", certificate[1]), 5)
    try:
        async with asyncio.timeout(2):  # the handover's deadline, well under QUIT's 5 s
            receipt = await gateway.send_email(email())
    finally:
        fake.slow_goodbye.set()
        await gateway.aclose()

    assert receipt.outcome is Outcome.ACCEPTED
    assert fake.goodbyes == 1


URL = "https://notify.example.no/notifications/api/v1/delivery-reports/smtp?code=dsn-secret"
ORIGINAL = b"From: noreply@example.no\r\nTo: kari@example.no\r\nSubject: Your code\r\n\r\n123\r\n"


def dsn(action: str, status: str, returned: bytes = b"") -> bytes:
    """A DSN of our `ref0001`, returning the message's headers with `returned` before them."""
    original = returned + ORIGINAL
    received = Received("noreply@example.no", "kari@example.no", original, "ref0001", None, True)
    return delivery_status_notification(received, action, status)


@pytest.mark.parametrize(
    ("action", "code", "status"),
    [
        ("delivered", "2.0.0", "Email_Delivered"),
        ("failed", "5.1.1", "Email_Failed_Bounced"),
        ("delayed", "4.4.7", None),
    ],
)
def test_dsn_is_read_by_envelope_id(action: str, code: str, status: str | None) -> None:
    read = DsnReports("smtp", "dsn-secret").read(InboundReport(URL, {}, dsn(action, code)))

    [report] = read.reports
    assert (report.reference, report.status) == ("ref0001", status)
    assert report.provider_status == f"{action} {code}"
    assert read.delivery_id is not None
    assert read.delivery_id.startswith("smtp:")


@pytest.mark.parametrize(
    ("returned", "proof"),
    [
        (
            b"Message-ID: <ref0001.ab12@notifications.local>\r\n",
            "<ref0001.ab12@notifications.local>",
        ),
        (b"", ""),
    ],
)
def test_a_dsn_carries_the_message_id_of_the_message_it_returns(
    returned: bytes, proof: str
) -> None:
    """Its proof: the inbox takes the DSN only for the shipment whose row holds that id."""
    body = dsn("failed", "5.1.1", returned)

    [report] = DsnReports("smtp", "dsn-secret").read(InboundReport(URL, {}, body)).reports

    assert report.proof == proof


@pytest.mark.parametrize("url", [URL.replace("dsn-secret", "guess"), URL.partition("?")[0]])
def test_dsn_without_the_code_is_rejected(url: str) -> None:
    with pytest.raises(ReportRejected):
        DsnReports("smtp", "dsn-secret").read(InboundReport(url, {}, dsn("delivered", "2.0.0")))


@pytest.mark.parametrize(
    "body",
    [
        ORIGINAL,
        dsn("delivered", "2.0.0").replace(b"Original-Envelope-Id", b"X-Envelope"),
        dsn("teleported", "2.0.0"),
        # 8-bit bytes in a field: the email package hands back a Header object, not a str.
        dsn("deliv\xe9red", "2.0.0"),
    ],
)
def test_unreadable_dsn(body: bytes) -> None:
    with pytest.raises(ReportUnreadable):
        DsnReports("smtp", "dsn-secret").read(InboundReport(URL, {}, body))


def test_an_envelope_id_with_8_bit_bytes_is_read_as_no_reference_of_ours() -> None:
    body = dsn("delivered", "2.0.0").replace(b"Id: ref0001", b"Id: ref\xff0001")
    [report] = DsnReports("smtp", "dsn-secret").read(InboundReport(URL, {}, body)).reports
    assert report.reference == "ref\ufffd0001"
