"""Link Mobility: the XML gateway against a local one, and its XML delivery reports."""

import base64
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import httpx
import pytest

from domain.reports import MatchKey
from gateways.base import (
    GatewayUnavailable,
    InboundReport,
    Outcome,
    ReportRejected,
    ReportUnreadable,
    SmsSend,
)
from gateways.linkmobility import LinkMobilityReports, LinkMobilitySms
from tests.support.fakes.linkmobility import FakeLinkMobility
from tests.support.serving import serving


@pytest.fixture
async def link() -> AsyncIterator[tuple[FakeLinkMobility, str]]:
    fake = FakeLinkMobility()
    async with serving(fake.app) as base:
        yield fake, base + "/"


def sms(to: str = "+4791234567", body: str = "Your code is 123456", ttl: int = 300) -> SmsSend:
    return SmsSend("ref0001", to, "Altinn", body, ttl)


def gateway(
    http: httpx.AsyncClient,
    url: str,
    fake: FakeLinkMobility,
    password: str = "",
) -> LinkMobilitySms:
    return LinkMobilitySms(http, url, fake.username, password or fake.password, 5)


async def test_send_carries_credentials_recipient_and_validity(
    link: tuple[FakeLinkMobility, str],
) -> None:
    fake, url = link
    async with httpx.AsyncClient() as http:
        receipt = await gateway(http, url, fake).send_sms(sms("004791234567", ttl=150))

    [sent] = fake.submitted
    assert receipt.outcome is Outcome.ACCEPTED
    assert receipt.gateway_reference == sent["REF"]
    assert (sent["RCV"], sent["SND"]) == ("4791234567", "Altinn")
    assert sent["TEXT"] == "Your code is 123456"
    assert (sent["TTL"], sent["RCPREQ"], sent["SD"]) == ("2", "Y", "ref0001")  # whole minutes
    assert "OP" not in sent


async def test_text_outside_gsm7_goes_as_hex_ucs2(link: tuple[FakeLinkMobility, str]) -> None:
    fake, url = link
    async with httpx.AsyncClient() as http:
        await gateway(http, url, fake).send_sms(sms(body="Kode: 1234 ł"))

    [sent] = fake.submitted
    assert sent["OP"] == "9"
    assert bytes.fromhex(sent["TEXT"]).decode("utf-16-be") == "Kode: 1234 ł"


@pytest.mark.parametrize("body", ["Kode: 1234 €", "Kode: [1234]", "Kode: {1234} ~ ^ | \\"])
async def test_text_with_gsm_extension_characters_goes_as_hex_ucs2(
    link: tuple[FakeLinkMobility, str], body: str
) -> None:
    """Its text messages carry only GSM 03.38's basic set, as its official client says."""
    fake, url = link
    async with httpx.AsyncClient() as http:
        await gateway(http, url, fake).send_sms(sms(body=body))

    [sent] = fake.submitted
    assert sent["OP"] == "9"
    assert bytes.fromhex(sent["TEXT"]).decode("utf-16-be") == body


async def test_a_message_taken_without_a_ref_is_accepted_and_told_to_the_operator(
    link: tuple[FakeLinkMobility, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Its DTD makes REF optional; its reports name a message by REF alone."""
    fake, url = link
    fake.next_refs = [""]
    async with httpx.AsyncClient() as http:
        receipt = await gateway(http, url, fake).send_sms(sms())

    assert receipt.outcome is Outcome.ACCEPTED
    assert receipt.gateway_reference is None
    assert any(r.levelname == "ERROR" and "without a REF" in r.getMessage() for r in caplog.records)


async def test_refused_logon_is_unavailable(link: tuple[FakeLinkMobility, str]) -> None:
    fake, url = link
    async with httpx.AsyncClient() as http:
        with pytest.raises(GatewayUnavailable, match="logon"):
            await gateway(http, url, fake, password="wrong").send_sms(sms())
    assert fake.submitted == []


# The delivery report as Link Mobility's documentation shows it.
DOC_REPORT = b"""<?xml version="1.0"?>
<!DOCTYPE MSGLST SYSTEM "pswincom_report_request.dtd">
<MSGLST>
  <MSG>
    <ID>1</ID>
    <REF>984342374</REF>
    <RCV>4512345678</RCV>
    <STATE>DELIVRD</STATE>
    <DELIVERYTIME>2006.02.23 15:23:23</DELIVERYTIME>
  </MSG>
</MSGLST>"""


def basic(user: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def reader() -> LinkMobilityReports:
    return LinkMobilityReports("dr-user", "dr-secret")


def test_documented_report_is_read_and_acknowledged() -> None:
    read = reader().read(InboundReport("http://api/x", basic("dr-user", "dr-secret"), DOC_REPORT))

    [report] = read.reports
    assert (report.reference, report.matched_by) == ("984342374", MatchKey.GATEWAY_REFERENCE)
    assert (report.provider_status, report.status) == ("DELIVRD", "SMS_Delivered")
    assert read.response is not None
    ack = ET.fromstring(read.response.body)
    assert [(m.findtext("ID"), m.findtext("STATUS")) for m in ack.iter("MSG")] == [("1", "OK")]


@pytest.mark.parametrize(
    "state",
    [
        *("DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "BARRED", "DELETED", "FAILED", "UNKNOWN"),
        *("NULL", "BARREDA", "ZEROBAL"),  # the last two: premium messages
    ],
)
def test_every_documented_state_is_read(state: str) -> None:
    body = DOC_REPORT.replace(b"DELIVRD", state.encode())
    [report] = reader().read(InboundReport("u", basic("dr-user", "dr-secret"), body)).reports
    assert report.status is not None
    assert report.status.startswith("SMS_")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("dr-user", "wrong"),
        basic("someone", "dr-secret"),
        {"authorization": "Bearer dr-secret"},
        {"authorization": "Basic not-base64!"},
    ],
)
def test_reports_without_the_credentials_are_rejected(headers: dict[str, str]) -> None:
    with pytest.raises(ReportRejected):
        reader().read(InboundReport("u", headers, DOC_REPORT))


def test_unconfigured_credentials_reject_everything() -> None:
    with pytest.raises(ReportRejected):
        LinkMobilityReports("", "").read(InboundReport("u", basic("", ""), DOC_REPORT))


def test_each_message_of_a_batch_stands_on_its_own() -> None:
    """An unknown state is kept (deciding nothing), a message without REF is set aside, and
    neither holds back the delivered report beside them; every message is acknowledged."""
    batch = b"""<?xml version="1.0"?>
<MSGLST>
  <MSG><ID>1</ID><REF>R1</REF><RCV>4791234567</RCV><STATE>BARREDA</STATE></MSG>
  <MSG><ID>2</ID><REF>R2</REF><RCV>4791234568</RCV><STATE>TELEPORTED</STATE></MSG>
  <MSG><ID>3</ID><RCV>4791234569</RCV><STATE>DELIVRD</STATE></MSG>
  <MSG><ID>4</ID><REF>R4</REF><RCV>4791234560</RCV><STATE>DELIVRD</STATE></MSG>
</MSGLST>"""
    read = reader().read(InboundReport("u", basic("dr-user", "dr-secret"), batch))

    assert [(r.reference, r.provider_status, r.status) for r in read.reports] == [
        ("R1", "BARREDA", "SMS_Failed_BarredReceiver"),
        ("R2", "TELEPORTED", None),
        ("R4", "DELIVRD", "SMS_Delivered"),
    ]
    assert len(read.unreadable) == 1
    assert "'3'" in read.unreadable[0]
    assert read.response is not None
    ack = ET.fromstring(read.response.body)
    assert [m.findtext("ID") for m in ack.iter("MSG")] == ["1", "2", "3", "4"]


@pytest.mark.parametrize("body", [b"<MSGLST>", b"<MSGLST/>", b"<SESSION/>"])
def test_unreadable_reports(body: bytes) -> None:
    with pytest.raises(ReportUnreadable):
        reader().read(InboundReport("u", basic("dr-user", "dr-secret"), body))
