"""The gateway simulator on its own: de-duplication, submission counts, filters, the inbox."""

import uuid
from email.message import EmailMessage

import aiosmtplib
import pytest

from domain.orders import ContentType
from gateways.base import EmailSend, Outcome
from gateways.smtp import SmtpEmail, SmtpServer
from tests.support.bodies import random_phone
from tests.support.simulator import received
from tests.support.stack import Stack


def sms(to: str, reference: str) -> dict[str, object]:
    return {
        "to": to,
        "from": "Altinn",
        "body": "Code 7",
        "reference": reference,
        "validitySeconds": 60,
    }


async def test_same_reference_is_one_message_with_a_submission_count(stack: Stack) -> None:
    reference = uuid.uuid4().hex
    phone = random_phone()

    first = await stack.simulator.post("/sms", json=sms(phone, reference))
    again = await stack.simulator.post("/sms", json=sms(phone, reference))

    assert first.status_code == again.status_code == 201
    assert first.json()["messageId"] == again.json()["messageId"]
    listed = await received(stack.simulator, to=phone)
    assert [(m["reference"], m["submissions"]) for m in listed] == [(reference, 2)]


async def test_to_filter_accepts_an_unencoded_plus(stack: Stack) -> None:
    phone = random_phone()
    await stack.simulator.post("/sms", json=sms(phone, uuid.uuid4().hex))

    listed = await stack.simulator.get(f"/messages?to={phone}")

    assert [m["to"] for m in listed.json()] == [phone]


@pytest.mark.parametrize(("phone", "status"), [("+4799990001", 400), ("+4799990009", 503)])
async def test_magic_numbers_refuse_or_fail(stack: Stack, phone: str, status: int) -> None:
    response = await stack.simulator.post("/sms", json=sms(phone, uuid.uuid4().hex))

    assert response.status_code == status
    assert await received(stack.simulator, to=phone) == []


async def test_email_over_smtp_is_listed_and_deduplicated(stack: Stack) -> None:
    reference = uuid.uuid4().hex
    address = f"reader.{reference[:8]}@example.no"
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "noreply@example.no", address, "Code"
    mail["Message-ID"] = f"<{reference}@notifications.local>"
    mail.set_content("Your code is 9")
    port = stack.settings.simulator.smtp_port

    for _ in range(2):
        await aiosmtplib.send(mail, hostname="127.0.0.1", port=port)

    listed = await received(stack.simulator, to=address)
    assert [(m["channel"], m["subject"], m["body"].strip(), m["submissions"]) for m in listed] == [
        ("Email", "Code", "Your code is 9", 2)
    ]


async def test_email_server_offers_pipelining_and_takes_commands_sent_together(
    stack: Stack,
) -> None:
    """As providers' relays do: the gateway then sends MAIL, RCPT and DATA at once."""
    address = f"reader.{uuid.uuid4().hex[:8]}@example.no"
    port = stack.settings.simulator.smtp_port
    smtp = SmtpEmail(SmtpServer("127.0.0.1", port), 5.0, idle_seconds=30)
    message = EmailSend("ref0001", address, "noreply@example.no", "Code", "9", ContentType.PLAIN)
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as client:
        await client.ehlo()
        offered = client.supports_extension("pipelining")

    receipt = await smtp.send_email(message)
    await smtp.aclose()

    assert offered
    assert receipt.outcome is Outcome.ACCEPTED
    assert [m["body"].strip() for m in await received(stack.simulator, to=address)] == ["9"]


async def test_email_is_deduplicated_on_the_reference_before_the_shipment(stack: Stack) -> None:
    """Our Message-IDs are `<reference.shipment@…>`: the simulator, like a provider that
    recognises a repeat, goes by the reference."""
    reference, address = uuid.uuid4().hex[:26], f"reader.{uuid.uuid4().hex[:8]}@example.no"
    port = stack.settings.simulator.smtp_port
    for shipment in ("a1", "b2"):
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "noreply@example.no", address, "Code"
        mail["Message-ID"] = f"<{reference}.{shipment}@notifications.local>"
        mail.set_content("Your code is 9")
        await aiosmtplib.send(mail, hostname="127.0.0.1", port=port)

    [listed] = await received(stack.simulator, to=address)
    assert (listed["reference"], listed["submissions"]) == (reference, 2)


async def test_an_html_email_is_listed_with_its_html(stack: Stack) -> None:
    """Not with the plain alternative the sender made from it: the inbox shows what was asked."""
    address = f"reader.{uuid.uuid4().hex[:8]}@example.no"
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "noreply@example.no", address, "Code"
    mail.set_content("Your code is 9")
    mail.add_alternative("<p>Your code is <b>9</b></p>", subtype="html")

    await aiosmtplib.send(mail, hostname="127.0.0.1", port=stack.settings.simulator.smtp_port)

    [listed] = await received(stack.simulator, to=address)
    assert listed["body"] == "<p>Your code is <b>9</b></p>\n"


async def test_invalid_email_recipient_is_refused_on_rcpt(stack: Stack) -> None:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "noreply@example.no", "invalid@example.no", "x"
    mail.set_content("x")

    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await aiosmtplib.send(mail, hostname="127.0.0.1", port=stack.settings.simulator.smtp_port)

    assert refused.value.recipients[0].code == 553


async def test_inbox_page_is_html(stack: Stack) -> None:
    response = await stack.simulator.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Simulator inbox" in response.text
