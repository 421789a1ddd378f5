"""A local Link Mobility XML gateway (PSWin): the SESSION submit API and its XML delivery reports.

Reports go to `report_url` with basic auth, as Link Mobility's gateway posts them to Altinn, and
the fake keeps what our endpoint answered so tests can check the XML acknowledgement.
"""

import asyncio
import base64
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.fakes.background import Background

INVALID = "4799990001"
BARRED = "4799990003"
SILENT = "4799990008"
BUSY = "4799990009"
HANG = "4799990013"
_STATES = {BARRED: "BARRED"}


@dataclass
class FakeLinkMobility:
    username: str = "gw-user"
    password: str = "gw-secret"
    report_url: str = ""
    report_username: str = "dr-user"
    report_password: str = "dr-secret"
    submitted: list[dict[str, str]] = field(default_factory=list)
    acknowledgements: list[httpx.Response] = field(default_factory=list)
    next_refs: list[str] = field(default_factory=list)
    _sequence: int = 0
    background: Background = field(default_factory=Background)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self._submit, methods=["POST"])])

    async def _submit(self, request: Request) -> Response:
        session = ET.fromstring(await request.body())
        if (session.findtext("CLIENT"), session.findtext("PW")) != (self.username, self.password):
            return _xml("<SESSION><LOGON>FAIL</LOGON><REASON>Invalid login</REASON></SESSION>")
        msg = session.find("MSGLST/MSG")
        assert msg is not None
        fields = {child.tag: child.text or "" for child in msg}
        fields["SD"] = session.findtext("SD") or ""
        rcv = fields.get("RCV", "")
        if rcv == BUSY:
            return Response("Service Unavailable", status_code=503)
        if rcv == HANG:
            await asyncio.sleep(3600)
        message_id = fields.get("ID", "1")
        if not rcv.isdigit() or len(rcv) < 9 or rcv == INVALID:
            return _xml(_response(message_id, "FAIL", f"Invalid RCV {rcv}", None))
        reference = self.next_refs.pop(0) if self.next_refs else uuid.uuid4().hex.upper()
        # As documented: at most 16 parts of 134 characters (of 67 UCS-2 units, hex-encoded).
        fields["TEXT"] = fields.get("TEXT", "")[: 16 * 67 * 4 if fields.get("OP") == "9" else 2144]
        self.submitted.append({**fields, "REF": reference})
        if rcv != SILENT and fields.get("RCPREQ") == "Y":
            self.background.start(self._report(reference, rcv))
        return _xml(_response(message_id, "OK", "", reference))

    async def _report(self, reference: str, receiver: str) -> None:
        await asyncio.sleep(0.05)
        await self.delivery_report(reference, receiver, _STATES.get(receiver, "DELIVRD"))

    async def delivery_report(
        self, reference: str, receiver: str, state: str, password: str | None = None
    ) -> httpx.Response:
        return await self.delivery_batch([(reference, receiver, state)], password)

    async def delivery_batch(
        self, reports: list[tuple[str | None, str, str]], password: str | None = None
    ) -> httpx.Response:
        """Several reports in one request, as the gateway batches them; a REF of None is left
        out of its message."""
        messages = ""
        for reference, receiver, state in reports:
            self._sequence += 1
            ref = f"<REF>{reference}</REF>" if reference is not None else ""
            messages += (
                f"<MSG><ID>{self._sequence}</ID>{ref}<RCV>{receiver}</RCV><STATE>{state}</STATE>"
                "<DELIVERYTIME>2026.03.01 12:00:00</DELIVERYTIME></MSG>"
            )
        body = (
            '<?xml version="1.0"?>\n<!DOCTYPE MSGLST SYSTEM "pswincom_report_request.dtd">\n'
            f"<MSGLST>{messages}</MSGLST>"
        )
        credentials = f"{self.report_username}:{password or self.report_password}"
        headers = {
            "Content-Type": "application/xml",
            "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
        }
        async with httpx.AsyncClient() as http:
            response = await http.post(self.report_url, content=body, headers=headers)
        self.acknowledgements.append(response)
        return response


def _response(message_id: str, status: str, info: str, reference: str | None) -> str:
    ref = f"<REF>{reference}</REF>" if reference else ""
    return (
        "<SESSION><LOGON>OK</LOGON><REASON></REASON><MSGLST><MSG>"
        f"<ID>{message_id}</ID>{ref}<STATUS>{status}</STATUS><INFO>{info}</INFO>"
        "</MSG></MSGLST></SESSION>"
    )


def _xml(document: str) -> Response:
    return Response('<?xml version="1.0"?>' + document, media_type="text/xml")
