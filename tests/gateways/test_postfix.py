"""The SMTP provider against a real Postfix (DSN advertised, no STARTTLS, no AUTH): the message
arrives dated, DSNs are asked for, and Postfix's own success DSN reads as delivered."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import parsedate_to_datetime

import pytest

from domain.orders import ContentType
from gateways.base import EmailSend, InboundReport, Outcome
from gateways.dsn import DsnReports
from gateways.smtp import SmtpEmail, SmtpServer
from tests.support.polling import eventually
from tests.support.postfix import RECIPIENTS, SENDERS, Postfix, running_postfix


@pytest.fixture(scope="module")
async def postfix() -> AsyncIterator[Postfix]:
    async with running_postfix() as server:
        yield server


def email(reference: str, local: str = "kari") -> EmailSend:
    return EmailSend(
        reference,
        f"{local}@{RECIPIENTS}",
        f"noreply@{SENDERS}",
        "Code",
        "123456",
        ContentType.PLAIN,
    )


async def arrived(postfix: Postfix, domain: str, header: str, value: str) -> Message:
    async def probe() -> Message | None:
        found = [m for m in postfix.mailbox(domain) if value in str(m.get(header, ""))]
        return found[0] if found else None

    try:
        return await eventually(probe, within=10)
    except AssertionError:
        raise AssertionError(f"nothing for {value} in {domain}:\n{postfix.log()}") from None


async def test_the_message_is_taken_dated_and_its_success_dsn_reads_delivered(
    postfix: Postfix,
) -> None:
    gateway = SmtpEmail(SmtpServer("127.0.0.1", postfix.port), 5, request_dsn=True)

    receipt = await gateway.send_email(email("postfixref1"))

    assert receipt.outcome is Outcome.ACCEPTED
    delivered = await arrived(postfix, RECIPIENTS, "Message-ID", "postfixref1")
    date = delivered["Date"]
    assert date is not None
    assert abs(parsedate_to_datetime(date) - datetime.now(UTC)) < timedelta(minutes=1)
    notification = await arrived(postfix, SENDERS, "Content-Type", "multipart/report")
    read = DsnReports("smtp", "dsn-secret").read(
        InboundReport("http://api/x?code=dsn-secret", {}, notification.as_bytes())
    )
    [report] = read.reports
    assert (report.reference, report.status) == ("postfixref1", "Email_Delivered")
    assert report.provider_status == "delivered 2.0.0"


async def test_an_unknown_domain_is_refused_as_a_final_refusal(postfix: Postfix) -> None:
    gateway = SmtpEmail(SmtpServer("127.0.0.1", postfix.port), 5)
    refused = EmailSend("r2", "kari@elsewhere.test", f"a@{SENDERS}", "S", "B", ContentType.PLAIN)

    receipt = await gateway.send_email(refused)

    assert receipt.outcome is Outcome.REFUSED
    assert receipt.detail is not None
    assert receipt.detail.startswith("554")
