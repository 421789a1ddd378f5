"""Email over SMTP: the handover is done when the server accepts the message."""

from email.message import EmailMessage

import aiosmtplib

from domain.orders import ContentType
from gateways.base import EmailSend, GatewayUnavailable, Outcome, Receipt

# Reply codes that say the address itself is unusable, as opposed to a refusal of the message.
_BAD_ADDRESS = frozenset({501, 553})


class SmtpEmail:
    def __init__(
        self,
        host: str,
        port: int,
        timeout_seconds: float,
        message_id_domain: str = "notifications.local",
        deduplicates: bool = False,
    ) -> None:
        # Plain SMTP has no such thing; the simulator's server de-duplicates on Message-ID.
        self.deduplicates = deduplicates
        self._host = host
        self._port = port
        self._timeout = timeout_seconds
        self._domain = message_id_domain

    async def send_email(self, message: EmailSend) -> Receipt:
        mail = self._compose(message)
        try:
            await self._deliver(mail)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return _refusal(exc.recipients[0].code, exc.recipients[0].message)
        except aiosmtplib.SMTPResponseException as exc:
            return _refusal(exc.code, exc.message)
        except aiosmtplib.SMTPNotSupported as exc:
            # e.g. a non-ASCII local part to a server without SMTPUTF8: retrying cannot help.
            return Receipt(Outcome.REFUSED, detail=str(exc))
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise GatewayUnavailable(f"SMTP server unreachable: {type(exc).__name__}") from exc
        return Receipt(Outcome.ACCEPTED, gateway_reference=mail["Message-ID"])

    async def _deliver(self, mail: EmailMessage) -> None:
        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            timeout=self._timeout,
            start_tls=False,
            use_tls=False,
        )
        try:
            await client.connect()
            await client.send_message(mail)
        except BaseException:
            # Not `async with`: on the way out it sends QUIT and waits for the answer, which a
            # server that hangs never gives, holding a cancelled handover for a full timeout.
            client.close()
            raise
        await client.quit()

    def _compose(self, message: EmailSend) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = message.sender
        mail["To"] = _ascii_domain(message.to)
        mail["Subject"] = message.subject
        # A Message-ID derived from our reference lets a server or a re-send recognise the message.
        mail["Message-ID"] = f"<{message.reference}@{self._domain}>"
        subtype = "html" if message.content_type is ContentType.HTML else "plain"
        mail.set_content(message.body, subtype=subtype)
        return mail


def _refusal(code: int, text: str) -> Receipt:
    if 400 <= code < 500:
        raise GatewayUnavailable(f"SMTP temporary refusal {code}")
    outcome = Outcome.INVALID_RECIPIENT if code in _BAD_ADDRESS else Outcome.REFUSED
    return Receipt(outcome, detail=f"{code} {text}")


def _ascii_domain(address: str) -> str:
    """An internationalised domain goes out as IDNA, so only a non-ASCII local part needs
    SMTPUTF8 from the server."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}" if not domain.isascii() else address
