"""ACS Email: signed `emails:send` against a local ACS, and Event Grid delivery reports."""

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from azure.communication.email.aio import EmailClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from devstack.processes import free_port
from domain.orders import ContentType
from domain.reports import MatchKey
from gateways.acs import AcsEmail, operation_id
from gateways.base import (
    EmailSend,
    GatewayUnavailable,
    InboundReport,
    Outcome,
    ReportRejected,
    ReportUnreadable,
)
from gateways.event_grid import EventGridReports
from tests.support.fakes.acs import FakeAcs, delivery_report_event, validation_event
from tests.support.serving import serving


@pytest.fixture
async def acs() -> AsyncIterator[tuple[FakeAcs, str]]:
    fake = FakeAcs()
    async with serving(fake.app) as base:
        yield fake, base


def email(to: str = "kari@example.no", html: bool = False) -> EmailSend:
    kind = ContentType.HTML if html else ContentType.PLAIN
    return EmailSend("ref0001", to, "noreply@example.no", "Your code", "<b>123456</b>", kind)


def gateway(http: httpx.AsyncClient, base: str, key: str, version: str = "2025-09-01") -> AcsEmail:
    return AcsEmail(http, base, key, version, 5.0)


@pytest.mark.parametrize("version", ["2025-09-01", "2023-03-31"])
async def test_send_is_signed_and_shaped_as_the_email_api(
    acs: tuple[FakeAcs, str], version: str
) -> None:
    fake, base = acs
    async with httpx.AsyncClient() as http:
        receipt = await gateway(http, base, fake.access_key, version).send_email(email(html=True))

    assert fake.signature_failures == 0
    assert receipt.outcome is Outcome.ACCEPTED
    assert receipt.gateway_reference == operation_id("ref0001")
    [message] = fake.sent
    assert message["senderAddress"] == "noreply@example.no"
    assert message["recipients"] == {"to": [{"address": "kari@example.no"}]}
    assert message["content"] == {
        "subject": "Your code",
        "html": "<b>123456</b>",
        "plainText": "123456",  # beside it, for readers that show no HTML
    }


async def test_a_plain_email_is_sent_as_plain_text_only(acs: tuple[FakeAcs, str]) -> None:
    fake, base = acs
    async with httpx.AsyncClient() as http:
        await gateway(http, base, fake.access_key).send_email(email())

    [message] = fake.sent
    assert message["content"] == {"subject": "Your code", "plainText": "<b>123456</b>"}


async def test_an_international_domain_goes_in_its_ascii_form(acs: tuple[FakeAcs, str]) -> None:
    fake, base = acs
    async with httpx.AsyncClient() as http:
        await gateway(http, base, fake.access_key).send_email(email("kari@bølgen.no"))

    [message] = fake.sent
    assert message["recipients"]["to"] == [{"address": "kari@xn--blgen-vua.no"}]


async def test_a_repeat_is_the_same_operation(acs: tuple[FakeAcs, str]) -> None:
    fake, base = acs
    async with httpx.AsyncClient() as http:
        first = await gateway(http, base, fake.access_key).send_email(email())
        again = await gateway(http, base, fake.access_key).send_email(email())

    assert first.gateway_reference == again.gateway_reference
    assert fake.operations == {operation_id("ref0001"): 2}
    assert len(fake.sent) == 1


async def test_microsofts_library_signs_as_the_local_acs_checks(acs: tuple[FakeAcs, str]) -> None:
    """The local ACS checks signatures with code of its own. Requests that Microsoft's ACS Email
    library signs pass it, and fail it under another key: so the check is ACS's, and the
    gateway's requests pass that same check."""
    fake, base = acs
    sent = {
        "senderAddress": "noreply@example.no",
        "recipients": {"to": [{"address": "silent@example.no"}]},
        "content": {"subject": "Your code", "plainText": "123456"},
    }
    wrong = base64.b64encode(b"another-key-of-thirty-two-bytes!").decode()

    async with EmailClient(base, AzureKeyCredential(fake.access_key)) as client:
        await client.begin_send(sent, operation_id=operation_id("sdk"), polling=False)
    async with EmailClient(base, AzureKeyCredential(wrong)) as client:
        with pytest.raises(HttpResponseError, match="Denied"):
            await client.begin_send(sent, operation_id=operation_id("sdk2"), polling=False)

    assert fake.signature_failures == 1
    assert fake.sent == [sent]
    assert fake.operations == {operation_id("sdk"): 1}


async def test_a_wrong_key_fails_the_signature_and_is_unavailable(
    acs: tuple[FakeAcs, str],
) -> None:
    fake, base = acs
    wrong = base64.b64encode(b"another-key-of-thirty-two-bytes!").decode()
    async with httpx.AsyncClient() as http:
        with pytest.raises(GatewayUnavailable, match="401"):
            await gateway(http, base, wrong).send_email(email())
    assert fake.signature_failures == 1
    assert fake.sent == []


@pytest.mark.parametrize(
    ("local", "outcome"),
    [
        ("invalid", Outcome.INVALID_RECIPIENT),
        ("suppressed", Outcome.BARRED),
        ("kari", Outcome.ACCEPTED),
    ],
)
async def test_refusals_map_to_outcomes(
    acs: tuple[FakeAcs, str], local: str, outcome: Outcome
) -> None:
    fake, base = acs
    async with httpx.AsyncClient() as http:
        receipt = await gateway(http, base, fake.access_key).send_email(email(f"{local}@x.no"))
    assert receipt.outcome is outcome


async def test_a_sender_the_resource_may_not_use_is_for_another_provider(
    acs: tuple[FakeAcs, str],
) -> None:
    fake, base = acs
    sent = replace(email("kari@x.no"), sender="unconfigured@example.no")
    async with httpx.AsyncClient() as http:
        receipt = await gateway(http, base, fake.access_key).send_email(sent)
    assert (receipt.outcome, receipt.elsewhere) == (Outcome.REFUSED, True)
    assert "InvalidSenderUserName" in (receipt.detail or "")


async def test_throttling_and_refused_connections_are_unavailable(
    acs: tuple[FakeAcs, str],
) -> None:
    fake, base = acs
    async with httpx.AsyncClient() as http:
        with pytest.raises(GatewayUnavailable, match="429"):
            await gateway(http, base, fake.access_key).send_email(email("unavailable@x.no"))
        nobody = gateway(http, f"http://127.0.0.1:{free_port()}", fake.access_key)
        with pytest.raises(GatewayUnavailable):
            await nobody.send_email(email())


# The event as the ACS email events reference shows it (Event Grid event schema).
DOC_EVENT: dict[str, object] = {
    "id": "00000000-0000-0000-0000-000000000000",
    "topic": "/subscriptions/{subscription-id}/resourceGroups/{group-name}/providers/"
    "microsoft.communication/communicationservices/{communication-services-resource-name}",
    "subject": "sender/senderid@azure.com/message/00000000-0000-0000-0000-000000000000",
    "data": {
        "sender": "senderid@azure.com",
        "recipient": "receiver@azure.com",
        "messageId": "00000000-0000-0000-0000-000000000000",
        "status": "Delivered",
        "deliveryStatusDetails": {"statusMessage": "Status Message"},
        "deliveryAttemptTimeStamp": "2020-09-18T00:22:20.2855749+00:00",
    },
    "eventType": "Microsoft.Communication.EmailDeliveryReportReceived",
    "dataVersion": "1.0",
    "metadataVersion": "1",
    "eventTime": "2020-09-18T00:22:20Z",
}
URL = "https://notify.example.no/notifications/api/v1/delivery-reports/acs?code=grid-secret"


def inbound(events: list[dict[str, object]], url: str = URL) -> InboundReport:
    return InboundReport(url, {"aeg-event-type": "Notification"}, json.dumps(events).encode())


def test_documented_event_is_read_by_operation_id() -> None:
    read = EventGridReports("acs", "grid-secret").read(inbound([DOC_EVENT]))

    [report] = read.reports
    assert report.reference == "00000000-0000-0000-0000-000000000000"
    assert report.matched_by is MatchKey.GATEWAY_REFERENCE
    assert (report.provider_status, report.status) == ("Delivered", "Email_Delivered")
    assert report.occurred_at is not None
    assert report.occurred_at.year == 2020


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("Bounced", "Email_Failed_Bounced"),
        ("Suppressed", "Email_Failed_SuppressedRecipient"),
        ("FilteredSpam", "Email_Failed_FilteredSpam"),
        ("Quarantined", "Email_Failed_Quarantined"),
        ("Expanded", "Email_Failed"),
        ("Failed", "Email_Failed"),
    ],
)
def test_failure_states_map_to_our_statuses(state: str, status: str) -> None:
    event = delivery_report_event("op-1", "a@x.no", "b@x.no", state)
    [report] = EventGridReports("acs", "grid-secret").read(inbound([event])).reports
    assert report.status == status


def test_subscription_validation_is_answered_with_the_code() -> None:
    read = EventGridReports("acs", "grid-secret").read(inbound([validation_event("512d38b6-c7b8")]))

    assert read.reports == []
    assert read.response is not None
    assert json.loads(read.response.body) == {"validationResponse": "512d38b6-c7b8"}


def test_other_event_types_are_not_reports() -> None:
    kind = "Microsoft.Communication.EmailEngagementTrackingReportReceived"
    engagement = {**DOC_EVENT, "eventType": kind}
    assert EventGridReports("acs", "grid-secret").read(inbound([engagement])).reports == []


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        (URL.replace("grid-secret", "guess"), "grid-secret"),
        (URL.partition("?")[0], "grid-secret"),
        (URL.replace("grid-secret", ""), ""),
        (URL.replace("grid-secret", "k3y%20Zq/9w=="), "k3y+Zq/9w=="),
    ],
)
def test_requests_without_the_code_are_rejected(url: str, secret: str) -> None:
    with pytest.raises(ReportRejected):
        EventGridReports("acs", secret).read(inbound([validation_event("x")], url))


@pytest.mark.parametrize("written", ["k3y+Zq/9w==", "k3y%2BZq%2F9w%3D%3D"])
def test_a_base64_code_matches_pasted_as_it_is_or_encoded(written: str) -> None:
    url = URL.replace("grid-secret", written)

    read = EventGridReports("acs", "k3y+Zq/9w==").read(inbound([validation_event("x")], url))

    assert read.response is not None


def with_data(data: object, event: dict[str, object] = DOC_EVENT) -> bytes:
    return json.dumps([{**event, "data": data}]).encode()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        with_data({**DOC_EVENT["data"], "messageId": "\ud800"}),  # type: ignore[dict-item]
        with_data(1.5, validation_event("x")),
        b'[{"id": "\\udfff", "eventType": "x"}]',
    ],
)
def test_unreadable_requests(body: bytes) -> None:
    with pytest.raises(ReportUnreadable):
        EventGridReports("acs", "grid-secret").read(InboundReport(URL, {}, body))


@pytest.mark.parametrize(
    "data",
    [
        {"status": "Delivered"},
        True,
        "text",
        [DOC_EVENT["data"]],
        {**DOC_EVENT["data"], "status": {}},  # type: ignore[dict-item]
        {**DOC_EVENT["data"], "status": ["Delivered"]},  # type: ignore[dict-item]
    ],
)
def test_an_unreadable_event_is_set_apart_and_the_others_are_read(data: object) -> None:
    """Event Grid does not send a refused request again: one bad event must not take the rest."""
    body = json.dumps([{**DOC_EVENT, "id": "bad", "data": data}, DOC_EVENT]).encode()

    read = EventGridReports("acs", "grid-secret").read(InboundReport(URL, {}, body))

    assert [report.reference for report in read.reports] == ["00000000-0000-0000-0000-000000000000"]
    assert len(read.unreadable) == 1
    assert "'bad'" in read.unreadable[0]


def test_a_state_we_do_not_map_decides_nothing() -> None:
    event = delivery_report_event("op-1", "a@x.no", "b@x.no", "SomethingNew")

    [report] = EventGridReports("acs", "grid-secret").read(inbound([event])).reports

    assert (report.reference, report.provider_status, report.status) == (
        "op-1",
        "SomethingNew",
        None,
    )
