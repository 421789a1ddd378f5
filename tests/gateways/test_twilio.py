"""Twilio: the Messages API against a local Twilio, and signed status callbacks."""

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import httpx
import pytest
from starlette.responses import JSONResponse, Response
from twilio.request_validator import RequestValidator

from core.config import Settings
from devstack.processes import free_port
from gateways.base import (
    GatewayUnavailable,
    InboundReport,
    Outcome,
    ReportReader,
    ReportRejected,
    ReportUnreadable,
    SmsSend,
)
from gateways.registry import build_report_readers
from gateways.twilio import (
    TwilioAccount,
    TwilioReports,
    TwilioSms,
    callback_url,
    signature,
    signed_forms,
)
from tests.support.fakes.edge import answering
from tests.support.fakes.twilio import FakeTwilio, twilio_signature
from tests.support.serving import serving

PUBLIC = "https://notify.example.no"

# Twilio's worked example (docs "Secure webhooks", the request-validation snippet): auth token
# 12345, this URL and these parameters give this X-Twilio-Signature.
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
# The same example as the Twilio SDKs' own request-validator tests carry it.
SDK_PARAMS = [(k, "+14158675309" if v == "+12349013030" else v) for k, v in DOC_PARAMS]
SDK_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    async with serving(fake.app) as base:
        yield fake, base


def sms(to: str = "+4791234567", ttl: int = 300, reference: str = "ref0001") -> SmsSend:
    return SmsSend(reference, to, "Altinn", "Your code is 123456", ttl)


def gateway(http: httpx.AsyncClient, base: str, fake: FakeTwilio, **account: str) -> TwilioSms:
    credentials = TwilioAccount(
        account.get("sid", fake.account_sid),
        account.get("token", fake.auth_token),
        account.get("service", ""),
    )
    return TwilioSms(http, base, credentials, PUBLIC, 5.0)


def twilio_error(code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "status": 400}, status_code=400)


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (twilio_error(21211, "The 'To' number is not a valid phone number."), "invalid_recipient"),
        (twilio_error(21610, "Attempt to send to unsubscribed recipient"), "barred"),
        (twilio_error(30007, "Message filtered"), "refused"),
        (twilio_error(21606, "The 'From' phone number is not a valid Twilio number"), "elsewhere"),
        (twilio_error(21408, "Permission to send an SMS has not been enabled"), "elsewhere"),
        (twilio_error(21212, "The 'From' number is not valid"), "elsewhere"),
        (twilio_error(21611, "This 'From' number has exceeded the queue"), "not taken"),
        (twilio_error(21705, "The Messaging Service is invalid"), "not taken"),
        (Response("<html>Bad Request</html>", status_code=400), "not taken"),
    ],
    ids=["21211", "21610", "30007", "21606", "21408", "21212", "21611", "21705", "proxy-400"],
)
async def test_a_400_refuses_the_message_only_where_it_speaks_of_the_message_or_recipient(
    answer: Response, outcome: str
) -> None:
    """Refused, this message: final. Refused for the sender it was given or the destination
    it goes to: the next provider is asked ("elsewhere"). A 400 about our account or queue
    (or not Twilio's): nothing sent, "not taken", which counts against Twilio's circuit."""
    account = TwilioAccount("AC" + "0" * 32, "token", "")
    async with serving(answering(answer)) as base, httpx.AsyncClient() as http:
        try:
            receipt = await TwilioSms(http, base, account, PUBLIC, 5.0).send_sms(sms())
        except GatewayUnavailable:
            said = "not taken"
        else:
            said = "elsewhere" if receipt.elsewhere else receipt.outcome.value

    assert said == outcome


def test_signature_matches_twilios_documented_examples() -> None:
    assert signature("12345", DOC_URL, DOC_PARAMS) == DOC_SIGNATURE
    assert signature("12345", DOC_URL, SDK_PARAMS) == SDK_SIGNATURE
    # The fake signs with Twilio's library; it agrees with the documentation too.
    assert twilio_signature("12345", DOC_URL, DOC_PARAMS) == DOC_SIGNATURE


async def test_send_is_authenticated_and_shaped_as_the_messages_api(
    twilio: tuple[FakeTwilio, str],
) -> None:
    fake, base = twilio
    async with httpx.AsyncClient() as http:
        receipt = await gateway(http, base, fake).send_sms(sms("004791234567", ttl=172800))

    assert receipt.outcome is Outcome.ACCEPTED
    assert receipt.gateway_reference is not None
    assert receipt.gateway_reference.startswith("SM")
    assert fake.refused_credentials == 0
    [form] = fake.created
    assert form["To"] == "+4791234567"
    assert form["From"] == "Altinn"
    assert form["Body"] == "Your code is 123456"
    assert form["ValidityPeriod"] == "36000"  # capped: Twilio allows no more
    route = "/notifications/api/v1/delivery-reports/twilio"
    assert form["StatusCallback"] == f"{PUBLIC}{route}?ref=ref0001"


async def test_messaging_service_replaces_from(twilio: tuple[FakeTwilio, str]) -> None:
    fake, base = twilio
    async with httpx.AsyncClient() as http:
        await gateway(http, base, fake, service="MG" + "1" * 32).send_sms(sms(ttl=120))

    [form] = fake.created
    assert form["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in form
    assert form["ValidityPeriod"] == "120"


async def test_wrong_credentials_are_unavailable_not_a_refusal(
    twilio: tuple[FakeTwilio, str],
) -> None:
    fake, base = twilio
    async with httpx.AsyncClient() as http:
        with pytest.raises(GatewayUnavailable, match="401"):
            await gateway(http, base, fake, token="wrong").send_sms(sms())
    assert fake.refused_credentials == 1
    assert fake.created == []


async def test_refused_connection_is_unavailable() -> None:
    fake = FakeTwilio()
    async with httpx.AsyncClient() as http:
        nobody = f"http://127.0.0.1:{free_port()}"
        with pytest.raises(GatewayUnavailable):
            await gateway(http, nobody, fake).send_sms(sms())


def callback(
    token: str = "fake-auth-token",
    reference: str = "ref0001",
    signed_url: str | None = None,
    public: str = PUBLIC,
    **fields: str,
) -> InboundReport:
    """A status callback as Twilio posts it, signed by Twilio's library over `signed_url` (by
    default the StatusCallback URL as we gave it)."""
    params = {
        "AccountSid": FakeTwilio().account_sid,
        "MessageSid": "SM" + "a" * 32,
        "MessageStatus": "delivered",
        "To": "+4791234567",
        **fields,
    }
    url = callback_url(public, reference)
    signed = twilio_signature(token, signed_url or url, list(params.items()))
    return InboundReport(
        url=url,
        headers={"x-twilio-signature": signed},
        body=urlencode(params).encode(),
    )


def reader(token: str = "fake-auth-token", public: str = PUBLIC) -> TwilioReports:
    return TwilioReports(TwilioAccount(FakeTwilio().account_sid, token), public)


ROUTE = "/notifications/api/v1/delivery-reports/twilio?ref=ref0001"


@pytest.mark.parametrize(
    ("public", "signed_over"),
    [
        ("https://notify.example.no", "https://notify.example.no:443"),
        ("https://notify.example.no", "https://notify.example.no"),
        ("https://notify.example.no:8443", "https://notify.example.no:8443"),
        ("https://notify.example.no:8443", "https://notify.example.no"),
        ("http://127.0.0.1:8000", "http://127.0.0.1"),
        ("http://notify.example.no", "http://notify.example.no:80"),
    ],
)
def test_callbacks_signed_with_or_without_the_port_are_accepted(
    public: str, signed_over: str
) -> None:
    """Twilio signs the URL with the port or without it; its validator accepts both."""
    inbound = callback(public=public, signed_url=signed_over + ROUTE)
    params = dict(parse_qsl(inbound.body.decode()))
    validator = RequestValidator("fake-auth-token")
    assert validator.validate(inbound.url, params, inbound.headers["x-twilio-signature"])

    [report] = reader(public=public).read(inbound).reports

    assert report.status == "SMS_Delivered"


@pytest.mark.parametrize(
    "signed_over", ["https://notify.example.no:444", "http://notify.example.no", "https://other.no"]
)
def test_a_signature_over_another_port_scheme_or_host_is_rejected(signed_over: str) -> None:
    inbound = callback(signed_url=signed_over + ROUTE)
    with pytest.raises(ReportRejected):
        reader().read(inbound)


def test_a_callback_signed_over_a_previous_base_url_is_accepted_while_it_is_listed() -> None:
    """A message sent before the deployment's base URL changed has its callback signed over
    the old one, which Twilio still calls."""
    old = "https://old.example.no"
    inbound = callback(signed_url=old + ROUTE)
    validator = RequestValidator("fake-auth-token")
    params = dict(parse_qsl(inbound.body.decode()))
    assert validator.validate(old + ROUTE, params, inbound.headers["x-twilio-signature"])

    def twilio_reader(previous: str) -> ReportReader:
        settings = Settings.model_validate(
            {
                "public_base_url": PUBLIC,
                "previous_public_base_urls": previous,  # as the environment gives it
                "twilio_account_sid": FakeTwilio().account_sid,
                "twilio_auth_token": "fake-auth-token",
            }
        )
        return build_report_readers(settings)["twilio"]

    [report] = twilio_reader(f"https://older.example.no, {old}").read(inbound).reports

    assert report.status == "SMS_Delivered"
    with pytest.raises(ReportRejected):
        twilio_reader("").read(inbound)


def test_the_forms_are_the_url_without_and_with_its_port() -> None:
    assert signed_forms("https://h.no:8443/a?b=c") == [
        "https://h.no/a?b=c",
        "https://h.no:8443/a?b=c",
    ]
    assert signed_forms("https://h.no/a") == ["https://h.no/a", "https://h.no:443/a"]


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"MessageStatus": "delivered"}, "SMS_Delivered"),
        ({"MessageStatus": "sent"}, None),
        ({"MessageStatus": "undelivered", "ErrorCode": "30004"}, "SMS_Failed_BarredReceiver"),
        ({"MessageStatus": "undelivered", "ErrorCode": "30005"}, "SMS_Failed_InvalidRecipient"),
        ({"MessageStatus": "undelivered", "ErrorCode": "30007"}, "SMS_Failed_Rejected"),
        ({"MessageStatus": "undelivered"}, "SMS_Failed_Undelivered"),
        ({"MessageStatus": "failed", "ErrorCode": "30036"}, "SMS_Failed_Expired"),
        ({"MessageStatus": "failed", "ErrorCode": "30008"}, "SMS_Failed"),
    ],
)
def test_callback_states_map_to_our_statuses(fields: dict[str, str], status: str | None) -> None:
    read = reader().read(callback(**fields))
    [report] = read.reports
    assert (report.reference, report.status) == ("ref0001", status)
    assert read.delivery_id == f"twilio:{'SM' + 'a' * 32}:{fields['MessageStatus']}"


def tampered(inbound: InboundReport) -> InboundReport:
    body = inbound.body.replace(b"delivered", b"undelivered")
    return InboundReport(inbound.url, inbound.headers, body)


def other_reference(inbound: InboundReport) -> InboundReport:
    query = parse_qs(urlsplit(inbound.url).query)
    assert query == {"ref": ["ref0001"]}
    return InboundReport(callback_url(PUBLIC, "ref0002"), inbound.headers, inbound.body)


@pytest.mark.parametrize(
    ("inbound", "accepting"),
    [
        (tampered(callback()), reader()),
        (other_reference(callback()), reader()),
        (callback(token="another-token"), reader()),
        (InboundReport(callback().url, {}, callback().body), reader()),
        (callback(token=""), reader(token="")),
        (callback(AccountSid="AC" + "9" * 32), reader()),
    ],
)
def test_forged_callbacks_are_rejected(inbound: InboundReport, accepting: TwilioReports) -> None:
    with pytest.raises(ReportRejected):
        accepting.read(inbound)


@pytest.mark.parametrize("code", ["²", "٣٠٠٠٤", "9" * 5000, "30004\n", ""])
def test_an_error_code_that_is_no_number_leaves_the_state_to_decide(code: str) -> None:
    [report] = reader().read(callback(MessageStatus="undelivered", ErrorCode=code)).reports
    assert report.status == "SMS_Failed_Undelivered"


@pytest.mark.parametrize(
    "state", ["partially_delivered", "receiving", "received", "queued", "teleported"]
)
def test_a_status_we_do_not_map_is_kept_and_decides_nothing(state: str) -> None:
    [report] = reader().read(callback(MessageStatus=state)).reports

    assert (report.provider_status, report.status) == (state, None)


def test_a_callback_without_a_status_is_unreadable() -> None:
    with pytest.raises(ReportUnreadable):
        reader().read(callback(MessageStatus=""))


def test_a_dead_callback_is_kept_without_a_message_text_or_media() -> None:
    """Twilio-compatible gateways add the message's text to a status callback."""
    body = callback(Body="Your code is 482913", MediaUrl0="https://media.example/1").body

    kept = dict(parse_qsl(reader().kept(body).decode()))

    assert "482913" not in reader().kept(body).decode()
    assert kept["MessageStatus"] == "delivered"
    assert "Body" not in kept
    assert "MediaUrl0" not in kept
