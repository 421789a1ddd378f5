"""A local Twilio: the Messages API as Twilio answers it, and its signed status callbacks.

It checks what Twilio checks (basic auth with the account SID and auth token, an E.164 `To`,
a ValidityPeriod of 1..36000, a Body of at most 1600 characters, a `From` that is a number or an
alphanumeric sender ID) and signs its callbacks with Twilio's own library, so the product's
signature code is checked against Twilio's.
"""

import asyncio
import base64
import hmac
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from tests.support.fakes.background import Background

# Magic recipients: the final callback each one gets (status, error code), or a behaviour.
INVALID = "+4799990001"
BARRED = "+4799990003"
SILENT = "+4799990008"
BUSY = "+4799990009"
HANG = "+4799990013"
EDGE_FAILURE = "+4799990502"  # created, and then its edge answers 502
QUOTING = "+4799990014"  # refused with the body quoted, as a content filter's words may
_FINAL = {BARRED: ("undelivered", "30004")}
# Error 21212: E.164, or up to 11 of A-Z, a-z, 0-9, space, +, -, _, & with at least one letter.
_FROM = re.compile(r"\+[0-9]{1,15}|(?=.*[A-Za-z])[A-Za-z0-9 +\-_&]{1,11}")


def twilio_signature(token: str, url: str, form: list[tuple[str, str]]) -> str:
    """X-Twilio-Signature as Twilio's library computes it."""
    signed: str = RequestValidator(token).compute_signature(url, dict(form))
    return signed


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "fake-auth-token"
    created: list[dict[str, str]] = field(default_factory=list)
    # Every authenticated request, also one that hangs and so creates nothing it can answer.
    asked: int = 0
    refused_credentials: int = 0
    # Every sender refused with this error code (21606: not a number of the account).
    refused_from: int | None = None
    callbacks: list[httpx.Response] = field(default_factory=list)
    background: Background = field(default_factory=Background)

    @property
    def app(self) -> Starlette:
        path = "/2010-04-01/Accounts/{sid}/Messages.json"
        return Starlette(routes=[Route(path, self._create, methods=["POST"])])

    async def _create(self, request: Request) -> JSONResponse:
        if not self._authenticated(request):
            self.refused_credentials += 1
            return _error(401, 20003, "Authenticate")
        self.asked += 1
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        to = form.get("To", "")
        if not to.startswith("+") or not to[1:].isdigit() or to == INVALID:
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not 1 <= int(form.get("ValidityPeriod", "36000")) <= 36000:
            return _error(400, 21624, "Invalid validity period value")
        if len(form.get("Body", "")) > 1600:
            return _error(400, 21617, "The concatenated message body exceeds the 1600 limit")
        if "From" in form and not _FROM.fullmatch(form["From"]):
            return _error(400, 21212, f"The 'From' number {form['From']} is not valid.")
        if self.refused_from is not None:
            return _error(400, self.refused_from, "The 'From' number is not a valid Twilio number")
        if to == BUSY:
            return _error(429, 20429, "Too Many Requests")
        if to == QUOTING:
            return _error(400, 30007, f"Message filtered: '{form.get('Body')}'")
        if to == HANG:
            await asyncio.sleep(3600)
        self.created.append(form)
        if to == EDGE_FAILURE:
            return JSONResponse({"message": "Bad Gateway"}, status_code=502)
        message = self._message(form)
        if to != SILENT and form.get("StatusCallback"):
            self.background.start(self._report(form, message["sid"]))
        return JSONResponse(message, status_code=201)

    def _authenticated(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return hmac.compare_digest(request.headers.get("authorization", ""), f"Basic {expected}")

    def _message(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body"),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_segments": "1",
            "sid": sid,
            "status": "queued",
            "to": form.get("To"),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }

    async def _report(self, form: dict[str, str], sid: str) -> None:
        status, code = _FINAL.get(form["To"], ("delivered", ""))
        for state in ("sent", status):
            await asyncio.sleep(0.05)
            await self.status_callback(form, sid, state, code if state == status else "")

    async def status_callback(
        self, form: dict[str, str], sid: str, status: str, error_code: str = ""
    ) -> httpx.Response:
        params = [
            ("AccountSid", self.account_sid),
            ("ApiVersion", "2010-04-01"),
            ("From", form.get("From") or "MG-sender"),
            ("MessageSid", sid),
            ("MessageStatus", status),
            ("SmsSid", sid),
            ("SmsStatus", status),
            ("To", form["To"]),
        ]
        if error_code:
            params.append(("ErrorCode", error_code))
        url = form["StatusCallback"]
        headers = {"X-Twilio-Signature": twilio_signature(self.auth_token, url, params)}
        async with httpx.AsyncClient() as http:
            response = await http.post(url, data=dict(params), headers=headers)
        self.callbacks.append(response)
        return response


def _error(status: int, code: int, message: str) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status)
