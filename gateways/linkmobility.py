"""Link Mobility's XML SMS gateway (PSWin), the one Altinn uses: send, its delivery reports and
their states, and its settings (`LINKMOBILITY_…`)."""

import logging
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import ClassVar

import httpx
from pydantic_settings import BaseSettings

from domain.reports import DeliveryReport, MatchKey
from domain.sms import SmsCapacity, international_digits, is_gsm7_basic, is_sender_number
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
    ReportResponse,
    ReportUnreadable,
    SmsSend,
    batch_id,
    section_config,
    unset,
)
from gateways.credentials import basic_auth_matches
from gateways.http_failures import answer_failure, transport_failure

log = logging.getLogger(__name__)

PROVIDER = "linkmobility"
_INVALID_RECIPIENT = "Invalid RCV"
_UNICODE = "9"  # message type (OP) of a UCS-2 text, sent hex-encoded
# From its XML API documentation (wiki.pswin.com, "Gateway XML API"): a text is split into at most
# 16 parts of 134 characters, 2144 in all, and cut off after that; a UCS-2 part holds 67 units
# (3GPP TS 23.040 9.2.3.24.1). A sender name is up to 11 of a-z, A-Z, 0-9 and these characters.
# Its text messages carry GSM 03.38's basic set only (the official client, Model/Sms.cs:
# "only characters defined in the GSM-7 basic character set"); a body with a character of the
# extension table (`€ [ ] { } | ^ ~ \`) goes as UCS-2.
CAPACITY = SmsCapacity("Link Mobility", 16 * 134, 16 * 67, "!\"#%&'()*+-./?<>;", is_gsm7_basic)
# The STATE of a delivery report, as Link Mobility documents them (the last three for premium
# messages). A state not listed decides nothing: it is kept in the shipment's history.
STATES: dict[str, ShipmentStatus] = {
    "DELIVRD": ShipmentStatus.SMS_DELIVERED,
    "EXPIRED": ShipmentStatus.SMS_FAILED_EXPIRED,  # the validity period (our TTL) ran out
    "DELETED": ShipmentStatus.SMS_FAILED_DELETED,
    "UNDELIV": ShipmentStatus.SMS_FAILED_UNDELIVERED,  # no valid number or no route
    "REJECTD": ShipmentStatus.SMS_FAILED_REJECTED,
    "FAILED": ShipmentStatus.SMS_FAILED,  # no operator took it, or a gateway error
    "UNKNOWN": ShipmentStatus.SMS_FAILED,  # no information of the delivery
    "NULL": ShipmentStatus.SMS_FAILED,  # no report came from the operator
    "BARRED": ShipmentStatus.SMS_FAILED_BARRED_RECEIVER,  # barred, blocked or not in use
    "BARREDA": ShipmentStatus.SMS_FAILED_BARRED_RECEIVER,  # below the message's age limit
    "ZEROBAL": ShipmentStatus.SMS_FAILED_UNDELIVERED,  # an empty prepaid account
}


class LinkMobilitySms:
    # The XML API takes no key it would recognise a repeat by: a resubmission is a second SMS.
    deduplicates = False

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        username: str,
        password: str,
        timeout_seconds: float,
    ) -> None:
        self._http = http
        self._url = base_url
        self._username = username
        self._password = password
        self._timeout = timeout_seconds

    async def send_sms(self, message: SmsSend) -> Receipt:
        document = self._session(message)
        try:
            response = await self._http.post(
                self._url,
                content=document,
                headers={"Content-Type": "text/xml; charset=ISO-8859-1"},
                timeout=self._timeout,
            )
        except httpx.TransportError as exc:
            raise transport_failure(PROVIDER, exc) from exc
        if response.status_code != 200:
            raise answer_failure(PROVIDER, response)
        return _receipt(response.content)

    def _session(self, message: SmsSend) -> bytes:
        session = ET.Element("SESSION")
        ET.SubElement(session, "CLIENT").text = self._username
        ET.SubElement(session, "PW").text = self._password
        # Session data tags the request in Link Mobility's own reports; reports to us carry
        # only the gateway's REF, so that is what they are matched by.
        ET.SubElement(session, "SD").text = message.reference
        msg = ET.SubElement(ET.SubElement(session, "MSGLST"), "MSG")
        ET.SubElement(msg, "ID").text = "1"
        if CAPACITY.as_text(message.body):
            ET.SubElement(msg, "TEXT").text = message.body
        else:
            ET.SubElement(msg, "TEXT").text = message.body.encode("utf-16-be").hex()
            ET.SubElement(msg, "OP").text = _UNICODE
        ET.SubElement(msg, "SND").text = _sender(message.sender)
        ET.SubElement(msg, "RCV").text = international_digits(message.to)
        # Whole minutes, rounded down: the gateway must not try for longer than the caller allows.
        ET.SubElement(msg, "TTL").text = str(max(1, message.validity_seconds // 60))
        ET.SubElement(msg, "RCPREQ").text = "Y"
        document: bytes = ET.tostring(session, encoding="ISO-8859-1", xml_declaration=True)
        return document


def _sender(sender: str) -> str:
    """A numeric sender goes as digits only: the gateway takes no `+` there."""
    return sender.removeprefix("+") if is_sender_number(sender) else sender


def _receipt(content: bytes) -> Receipt:
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        # It answered 200: the message may well have been taken.
        raise HandoverAmbiguous("Link Mobility answered with unreadable XML") from exc
    logon = root.findtext("LOGON")
    if logon is None:
        # XML, but not the gateway's answer (a proxy's page): nothing says it was not taken.
        raise HandoverAmbiguous("Link Mobility answered without a logon status")
    if logon != "OK":
        raise GatewayUnavailable(f"Link Mobility logon refused: {root.findtext('REASON')}")
    msg = root.find("MSGLST/MSG")
    if msg is None:
        raise HandoverAmbiguous("Link Mobility answered without a message status")
    info = msg.findtext("INFO") or ""
    if msg.findtext("STATUS") == "OK":
        reference = msg.findtext("REF") or None
        if reference is None:
            # Its reports name a message by REF alone (the DTD makes REF optional): this one's
            # report cannot be matched, and the shipment ends at its TTL unless an operator acts.
            log.error("Link Mobility took a message without a REF: its report cannot be matched")
        return Receipt(Outcome.ACCEPTED, gateway_reference=reference)
    if info.startswith(_INVALID_RECIPIENT):
        return Receipt(Outcome.INVALID_RECIPIENT, detail=info)
    return Receipt(Outcome.REFUSED, detail=info)


class LinkMobilityReports(ReportReader):
    """Delivery reports: XML `MSGLST/MSG{ID, REF, RCV, STATE, DELIVERYTIME}` posted with basic
    auth, answered with an XML acknowledgement of each message ID."""

    def __init__(self, username: str, password: str) -> None:
        self._username = username
        self._password = password

    def read(self, inbound: InboundReport) -> ReadReports:
        if not basic_auth_matches(
            inbound.headers.get("authorization"), self._username, self._password
        ):
            raise ReportRejected("no valid basic credentials")
        messages = _messages(inbound.body)
        # Each message of a batch stands on its own: one that cannot be matched is kept as a
        # dead report, and does not hold back the others.
        return ReadReports(
            [_report(msg) for msg in messages if msg.findtext("REF")],
            delivery_id=f"{PROVIDER}:{batch_id(_identity(msg) for msg in messages)}",
            response=_acknowledgement([msg.findtext("ID") or "" for msg in messages]),
            unreadable=[
                f"a report without REF (ID {msg.findtext('ID')!r})"
                for msg in messages
                if not msg.findtext("REF")
            ],
        )


def _messages(body: bytes) -> list[ET.Element]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ReportUnreadable("not well-formed XML") from exc
    messages = root.findall("MSG") if root.tag == "MSGLST" else []
    if not messages:
        raise ReportUnreadable("no MSGLST/MSG element")
    return messages


def _identity(msg: ET.Element) -> str:
    return f"{msg.findtext('ID')}:{msg.findtext('REF')}:{msg.findtext('STATE')}"


def _report(msg: ET.Element) -> DeliveryReport:
    reference, state = msg.findtext("REF") or "", msg.findtext("STATE") or ""
    return DeliveryReport(
        reference=reference,
        provider=PROVIDER,
        provider_status=state,
        status=STATES.get(state),
        received_at=datetime.now(UTC),
        report_id=f"{reference}:{state}",
        matched_by=MatchKey.GATEWAY_REFERENCE,
    )


def _acknowledgement(ids: list[str]) -> ReportResponse:
    root = ET.Element("MSGLST")
    for message_id in ids:
        msg = ET.SubElement(root, "MSG")
        ET.SubElement(msg, "ID").text = message_id
        ET.SubElement(msg, "STATUS").text = "OK"
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return ReportResponse(document, "text/xml")


class LinkMobilitySettings(BaseSettings):
    """`LINKMOBILITY_BASE_URL`, the account (`…_USERNAME`, `…_PASSWORD`) and the basic auth its
    reports must carry (`…_REPORT_USERNAME`, `…_REPORT_PASSWORD`)."""

    model_config = section_config("LINKMOBILITY_")
    capacity: ClassVar[SmsCapacity] = CAPACITY

    base_url: str = "https://xml.pswin.com"
    username: str = ""
    password: str = ""
    report_username: str = ""
    report_password: str = ""

    def missing(self, public_base_url: str) -> list[str]:
        return unset(
            self, "LINKMOBILITY_", "username", "password", "report_username", "report_password"
        )

    def sms_gateway(self, context: GatewayContext) -> LinkMobilitySms:
        return LinkMobilitySms(
            context.client, self.base_url, self.username, self.password, context.timeout_seconds
        )

    def report_reader(self, context: GatewayContext) -> LinkMobilityReports:
        return LinkMobilityReports(self.report_username, self.report_password)
