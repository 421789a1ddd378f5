"""What a dead report keeps of a mail relayed to the DSN route: headers and delivery-status
fields, never a body or a subject, where a code may be quoted."""

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP

from gateways.mail_outline import outline

CODE = "482913"


def out_of_office() -> bytes:
    reply = EmailMessage()
    reply["From"] = "Kari Nordmann <kari@example.no>"
    reply["To"] = "noreply@service.example.no"
    reply["Subject"] = f"Automatic reply: Your code is {CODE}"
    reply["Thread-Topic"] = f"Your code is {CODE}"
    reply["X-Original-Subject"] = f"Your code is {CODE}"
    reply.set_content(f"I am away until Monday.\n\n> Your code is {CODE}\n")
    return reply.as_bytes(policy=SMTP)


def bounce_with_the_whole_message() -> bytes:
    """A server that returns the full message, whatever RET=HDRS asked (RFC 3464's layout)."""
    original = EmailMessage()
    original["From"] = "noreply@service.example.no"
    original["To"] = "gone@example.no"
    original["Subject"] = f"Your code is {CODE}"
    original.set_content(f"Your code is {CODE}")
    original.add_alternative(f"<p>Your code is <b>{CODE}</b></p>", subtype="html")
    return (
        b"From: MAILER-DAEMON@mx.example.no\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.no\r\nOriginal-Envelope-Id: abc123\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.no\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--b1\r\nContent-Type: message/rfc822\r\n\r\n"
        + original.as_bytes(policy=SMTP)
        + b"\r\n--b1--\r\n"
    )


def test_an_out_of_office_reply_keeps_its_headers_but_no_subject_or_body() -> None:
    kept = outline(message_from_bytes(out_of_office())).decode()

    assert CODE not in kept
    assert "From: Kari Nordmann <kari@example.no>" in kept
    assert "Subject: [left out]" in kept
    assert "Thread-Topic: [left out]" in kept
    assert "X-Original-Subject: [left out]" in kept
    assert "[text/plain: " in kept
    assert "bytes left out]" in kept


def test_a_bounce_keeps_its_status_fields_and_the_headers_of_the_message_it_returns() -> None:
    kept = outline(message_from_bytes(bounce_with_the_whole_message())).decode()

    assert CODE not in kept
    for line in ("Original-Envelope-Id: abc123", "Action: failed", "Status: 5.1.1"):
        assert line in kept
    assert "[message/rfc822]" in kept
    assert "To: gone@example.no" in kept
    assert "[text/html: " in kept
    assert kept.count("Subject: [left out]") == 2


def test_a_diagnostic_keeps_its_codes_but_not_the_text_a_filter_quoted() -> None:
    diagnostic = f"smtp; 550 5.7.1 Content rejected: Your login code is {CODE}"
    bounce = bounce_with_the_whole_message().replace(
        b"Status: 5.1.1\r\n", f"Status: 5.7.1\r\nDiagnostic-Code: {diagnostic}\r\n".encode()
    )

    kept = outline(message_from_bytes(bounce)).decode()

    assert CODE not in kept
    assert "Diagnostic-Code: smtp; 550 5.7.1 [left out]" in kept
