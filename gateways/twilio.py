"""Twilio Programmable Messaging: the Messages API, its signed status callbacks, its statuses
and error codes, and its settings (`TWILIO_…`)."""

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

import httpx
from pydantic_settings import BaseSettings

from domain.reports import DeliveryReport
from domain.sms import SmsCapacity, e164
from domain.statuses import ShipmentStatus
from gateways.base import (
    GatewayContext,
    GatewayUnavailable,
    HandoverAmbiguous,
    InboundReport,
    Outcome,
    ReadReports,
    Receipt,
    ReportReader,
    ReportRejected,
    ReportUnreadable,
    SmsSend,
    section_config,
    unset,
)
from gateways.credentials import query_value
from gateways.http_failures import answer_failure, json_object, transport_failure

PROVIDER = "twilio"
REPORT_PATH = "/notifications/api/v1/delivery-reports/twilio"
# Twilio refuses a longer ValidityPeriod (errors 21624/90007). Beyond it, our own TTL timer
# still decides the shipment; Twilio merely stops queueing the message after 10 hours.
MAX_VALIDITY_SECONDS = 36000
# A Body of at most 1600 characters (error 21617); an alphanumeric From of up to 11 of A-Z, a-z,
# 0-9, space, +, -, _ and & (error 21212; the AlphaSender resource lists the characters).
CAPACITY = SmsCapacity("Twilio", 1600, 1600, "+-_&")
# Error codes of a refused create request that speak about the recipient.
_REFUSED_RECIPIENT: dict[int, Outcome] = {
    21211: Outcome.INVALID_RECIPIENT,  # invalid 'To' number
    21612: Outcome.INVALID_RECIPIENT,  # 'To' not reachable via SMS
    21614: Outcome.INVALID_RECIPIENT,  # 'To' is not a mobile number
    21635: Outcome.INVALID_RECIPIENT,  # 'To' is a landline
    21610: Outcome.BARRED,  # the recipient replied STOP
}
# Error codes of a refused create request about our account or its queue, not this message:
# nothing was created, another provider may take it, and a run of them opens the circuit.
_OUR_ACCOUNT = frozenset(
    {
        21609,  # invalid StatusCallback URL (PUBLIC_BASE_URL)
        21611,  # the 'From' number's queue is full
        21703,  # the Messaging Service has no sender available
        21704,  # the Messaging Service has no senders
        21705,  # the Messaging Service is invalid
    }
)
# Error codes about the sender this message was given or the destination it goes to, which
# another provider may well reach: it is asked, and Twilio's circuit is not charged for them
# (one order would open it). Any other 400 with Twilio's code refuses the message.
_THIS_SENDER_OR_DESTINATION = frozenset(
    {
        21212,  # invalid 'From'
        21408,  # the account may not send to the recipient's country (geo permissions)
        21601,  # 'From' is not an SMS-capable number of the account
        21606,  # 'From' is not a message-capable Twilio number for this destination
        21659,  # 'From' is not a Twilio number
    }
)
# MessageStatus of a status callback that decides the shipment. Every other status (queued,
# accepted, scheduled, sending, sent, partially_delivered, receiving, received, and whatever
# Twilio adds) decides nothing: it is acknowledged and kept in the shipment's history.
REPORT_STATES: dict[str, ShipmentStatus] = {
    "delivered": ShipmentStatus.SMS_DELIVERED,
    "read": ShipmentStatus.SMS_DELIVERED,
    "undelivered": ShipmentStatus.SMS_FAILED_UNDELIVERED,
    "failed": ShipmentStatus.SMS_FAILED,
    "canceled": ShipmentStatus.SMS_FAILED,
}
# Error codes that say more than the status of a failed or undelivered message.
ERROR_CODES: dict[int, ShipmentStatus] = {
    21211: ShipmentStatus.SMS_FAILED_INVALID_RECIPIENT,  # invalid 'To' number
    21614: ShipmentStatus.SMS_FAILED_INVALID_RECIPIENT,  # 'To' is not a mobile number
    21610: ShipmentStatus.SMS_FAILED_BARRED_RECEIVER,  # recipient unsubscribed (STOP)
    30003: ShipmentStatus.SMS_FAILED_UNDELIVERED,  # unreachable destination handset
    30004: ShipmentStatus.SMS_FAILED_BARRED_RECEIVER,  # message blocked
    30005: ShipmentStatus.SMS_FAILED_INVALID_RECIPIENT,  # unknown destination handset
    30006: ShipmentStatus.SMS_FAILED_INVALID_RECIPIENT,  # landline or unreachable carrier
    30007: ShipmentStatus.SMS_FAILED_REJECTED,  # filtered by the carrier
    30008: ShipmentStatus.SMS_FAILED,  # unknown error
    30036: ShipmentStatus.SMS_FAILED_EXPIRED,  # validity period expired
}
_DEFAULT_PORTS = {"https": 443, "http": 80}
# Twilio's error codes are five digits; str.isdigit() would also pass "²" or "٣".
_ERROR_CODE = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class TwilioAccount:
    account_sid: str
    auth_token: str
    messaging_service_sid: str = ""


def callback_url(public_base_url: str, reference: str) -> str:
    """The StatusCallback we give Twilio: it names our reference, and Twilio signs it."""
    return f"{public_base_url.rstrip('/')}{REPORT_PATH}?{urlencode({'ref': reference})}"


def signed_forms(url: str) -> list[str]:
    """The URL as Twilio may have signed it: without a port and with the port (the scheme's
    default where the URL names none). Twilio signs either form; its validator accepts both."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 443)
    return [_with_netloc(parts, host), _with_netloc(parts, f"{host}:{port}")]


def _with_netloc(parts: SplitResult, netloc: str) -> str:
    return parts._replace(netloc=netloc).geturl()


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """X-Twilio-Signature: HMAC-SHA1 over the URL followed by each name and value, by name."""
    content = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), content.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TwilioSms:
    # The Messages API has no idempotency key: a repeated create is a second message.
    deduplicates = False

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        account: TwilioAccount,
        public_base_url: str,
        timeout_seconds: float,
    ) -> None:
        self._http = http
        self._account = account
        account_path = f"/2010-04-01/Accounts/{account.account_sid}"
        self._url = f"{base_url.rstrip('/')}{account_path}/Messages.json"
        self._public_base_url = public_base_url
        self._timeout = timeout_seconds

    async def send_sms(self, message: SmsSend) -> Receipt:
        form = {
            "To": e164(message.to),
            "Body": message.body,
            "ValidityPeriod": str(min(message.validity_seconds, MAX_VALIDITY_SECONDS)),
            "StatusCallback": callback_url(self._public_base_url, message.reference),
        }
        if self._account.messaging_service_sid:
            form["MessagingServiceSid"] = self._account.messaging_service_sid
        else:
            form["From"] = message.sender
        try:
            response = await self._http.post(
                self._url,
                data=form,
                auth=(self._account.account_sid, self._account.auth_token),
                timeout=self._timeout,
            )
        except httpx.TransportError as exc:
            raise transport_failure(PROVIDER, exc) from exc
        if response.status_code == 201:
            return Receipt(Outcome.ACCEPTED, gateway_reference=_sid(response))
        if response.status_code != 400:
            # 401/403/404: our credentials or account; 429 and 503: Twilio. Nothing was created.
            raise answer_failure(PROVIDER, response)
        error = json_object(response)
        code = error.get("code")
        if not isinstance(code, int) or code in _OUR_ACCOUNT:
            # Our account, or a 400 that is not Twilio's (a proxy's page): nothing was created.
            raise GatewayUnavailable(
                f"{PROVIDER} answered 400, not about the message: {code!r:.12}"
            )
        outcome = _REFUSED_RECIPIENT.get(code, Outcome.REFUSED)
        detail = f"{code} {error.get('message', '')}"
        return Receipt(outcome, detail=detail, elsewhere=code in _THIS_SENDER_OR_DESTINATION)


class TwilioReports(ReportReader):
    """Status callbacks: form-encoded, signed over our callback URL and every parameter."""

    def __init__(
        self, account: TwilioAccount, public_base_url: str, previous: tuple[str, ...] = ()
    ) -> None:
        self._account = account
        # A message sent before the base URL changed has its callback signed over the old one.
        self._base_urls = (public_base_url, *previous)

    def read(self, inbound: InboundReport) -> ReadReports:
        params = parse_qsl(inbound.body.decode("utf-8", "replace"), keep_blank_values=True)
        reference = self._verify(inbound, params)
        fields = dict(params)
        if fields.get("AccountSid") != self._account.account_sid:
            raise ReportRejected("the callback names another account")
        report = _parse(reference, fields)
        return ReadReports([report], delivery_id=f"{PROVIDER}:{report.report_id}")

    def kept(self, body: bytes) -> bytes:
        """The callback without a message's text or media, which Twilio-compatible gateways
        (and Twilio's own, for some channels) add to a status callback."""
        params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return urlencode([(name, value) for name, value in params if not _quotes(name)]).encode()

    def _verify(self, inbound: InboundReport, params: list[tuple[str, str]]) -> str:
        if not self._account.auth_token:
            raise ReportRejected("Twilio is not configured")
        reference = query_value(inbound.url, "ref")
        if not reference:
            raise ReportRejected("not a status callback URL of ours")
        # The URL Twilio signed is one we gave it, whatever proxies did to the request since.
        urls = [callback_url(base, reference) for base in self._base_urls]
        given = inbound.headers.get("x-twilio-signature", "").encode()
        token = self._account.auth_token
        if not any(
            hmac.compare_digest(given, signature(token, form, params).encode())
            for url in urls
            for form in signed_forms(url)
        ):
            raise ReportRejected("no valid X-Twilio-Signature")
        return reference


def _quotes(name: str) -> bool:
    return name == "Body" or name.startswith(("MediaUrl", "MediaContentType"))


def _parse(reference: str, fields: dict[str, str]) -> DeliveryReport:
    sid, state = fields.get("MessageSid", ""), fields.get("MessageStatus", "")
    if not sid or not state:
        raise ReportUnreadable("a callback without MessageSid or MessageStatus")
    status = REPORT_STATES.get(state)
    code = fields.get("ErrorCode", "")
    if state in ("undelivered", "failed") and _ERROR_CODE.fullmatch(code):
        status = ERROR_CODES.get(int(code), status)
    return DeliveryReport(
        reference=reference,
        provider=PROVIDER,
        provider_status=f"{state} {code}".strip(),
        status=status,
        received_at=datetime.now(UTC),
        report_id=f"{sid}:{state}",
    )


def _sid(response: httpx.Response) -> str:
    sid = json_object(response).get("sid")
    if not isinstance(sid, str):
        # Created, as far as Twilio said: a retry would send a second message.
        raise HandoverAmbiguous("Twilio answered 201 without a message SID")
    return sid


class TwilioSettings(BaseSettings):
    """`TWILIO_BASE_URL`, `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN` (it also verifies the
    callbacks), `TWILIO_MESSAGING_SERVICE_SID` (sends through a Messaging Service)."""

    model_config = section_config("TWILIO_")
    capacity: ClassVar[SmsCapacity] = CAPACITY

    base_url: str = "https://api.twilio.com"
    account_sid: str = ""
    auth_token: str = ""
    messaging_service_sid: str = ""

    @property
    def account(self) -> TwilioAccount:
        return TwilioAccount(self.account_sid, self.auth_token, self.messaging_service_sid)

    def missing(self, public_base_url: str) -> list[str]:
        """Twilio posts its status callbacks to PUBLIC_BASE_URL: it must reach us, over https."""
        gaps = unset(self, "TWILIO_", "account_sid", "auth_token")
        parts = urlsplit(public_base_url)
        if parts.scheme != "https" or parts.hostname in (None, "localhost", "127.0.0.1", "::1"):
            gaps.append("PUBLIC_BASE_URL (https, reachable by Twilio)")
        return gaps

    def sms_gateway(self, context: GatewayContext) -> TwilioSms:
        return TwilioSms(
            context.client,
            self.base_url,
            self.account,
            context.public_base_url,
            context.timeout_seconds,
        )

    def report_reader(self, context: GatewayContext) -> TwilioReports:
        return TwilioReports(
            self.account, context.public_base_url, context.previous_public_base_urls
        )
