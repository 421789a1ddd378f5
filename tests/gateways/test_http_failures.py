"""What a failed HTTP exchange means, against each HTTP provider's local server with the line cut
after each chunk of a handover in turn: no message sent twice, none sent that was called not
sent, and where the provider recognises a repeat, one asked again still sent once."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import Response

from core.config import Settings
from core.outbound import new_client
from domain.orders import ContentType
from gateways.base import EmailSend, GatewayUnavailable, HandoverAmbiguous, SmsSend
from gateways.registry import gateway_context
from tests.support.cuts import AMBIGUOUS, Handover, broken_promises, cut_in_turn
from tests.support.fakes.acs import FakeAcs
from tests.support.fakes.edge import answering
from tests.support.fakes.linkmobility import SILENT, FakeLinkMobility
from tests.support.fakes.tcp_proxy import proxied
from tests.support.fakes.twilio import FakeTwilio
from tests.support.serving import serving


def reference(n: int) -> str:
    return f"ref{n:04}"


@dataclass(frozen=True)
class Local:
    """A provider's local server: its app, the settings that point its gateway at a port (the
    proxy's), and the messages it has taken, by number."""

    app: Starlette
    settings: Callable[[int], dict[str, Any]]
    taken: Callable[[], list[int]]


def twilio() -> Local:
    fake = FakeTwilio()

    def taken() -> list[int]:
        refs = [parse_qs(urlsplit(f["StatusCallback"]).query)["ref"][0] for f in fake.created]
        return [int(ref[3:]) for ref in refs]

    def settings(port: int) -> dict[str, Any]:
        return {
            "twilio_base_url": f"http://127.0.0.1:{port}",
            "twilio_account_sid": fake.account_sid,
            "twilio_auth_token": fake.auth_token,
        }

    return Local(fake.app, settings, taken)


def linkmobility() -> Local:
    fake = FakeLinkMobility()

    def settings(port: int) -> dict[str, Any]:
        return {
            "linkmobility_base_url": f"http://127.0.0.1:{port}/",
            "linkmobility_username": fake.username,
            "linkmobility_password": fake.password,
        }

    return Local(fake.app, settings, lambda: [int(f["SD"][3:]) for f in fake.submitted])


def acs() -> Local:
    fake = FakeAcs()

    def settings(port: int) -> dict[str, Any]:
        return {"acs_endpoint": f"http://127.0.0.1:{port}", "acs_access_key": fake.access_key}

    # ACS queues one message per Operation-Id, however often it is asked.
    return Local(fake.app, settings, lambda: [int(m["content"]["subject"][3:]) for m in fake.sent])


def sms(n: int) -> SmsSend:
    # To the recipient the local servers send no report for: there is no report route here.
    return SmsSend(reference(n), "+" + SILENT, "Altinn", "Code 123456", 300)


def email(n: int) -> EmailSend:
    return EmailSend(
        reference(n),
        "silent@example.no",
        "noreply@example.no",
        reference(n),
        "123",
        ContentType.PLAIN,
    )


PROVIDERS = {"twilio": twilio, "linkmobility": linkmobility, "acs": acs}


def handover(settings: Settings, name: str, http: httpx.AsyncClient) -> tuple[Handover, bool]:
    """The provider's gateway as the worker builds it: its handover, and whether the provider
    recognises a repeat."""
    context = gateway_context(settings, name, http)
    if name in settings.email_sections():
        mailer = settings.email_sections()[name].email_gateway(context)
        return (lambda n: mailer.send_email(email(n))), mailer.deduplicates
    texter = settings.sms_sections()[name].sms_gateway(context)
    return (lambda n: texter.send_sms(sms(n))), texter.deduplicates


@pytest.mark.parametrize("kept", [False, True], ids=["new-connection", "kept-connection"])
@pytest.mark.parametrize("name", list(PROVIDERS))
async def test_a_line_cut_anywhere_never_sends_a_message_twice(name: str, kept: bool) -> None:
    keep = {} if kept else {"max_keepalive_connections": 0}
    local = PROVIDERS[name]()
    async with (
        serving(local.app, grace=0) as url,
        proxied(int(url.rpartition(":")[2])) as proxy,
        new_client(**keep) as http,  # the gateways' own client, pooled as in the worker
    ):
        settings = Settings(_env_file=None, **local.settings(proxy.port))  # type: ignore[call-arg]
        send, deduplicates = handover(settings, name, http)
        outcomes = await cut_in_turn(send, proxy, send if kept else None)
        # A provider that recognises a repeat is asked again, as the handover does.
        again = [
            (await send(n)).outcome.name
            for n, outcome in outcomes.items()
            if outcome == AMBIGUOUS and deduplicates
        ]

    assert broken_promises(outcomes, local.taken()) == {}
    # A cut after the request left is ambiguous: HTTP cannot tell whether it arrived.
    assert set(outcomes.values()) == {"ACCEPTED", AMBIGUOUS}
    assert again == (["ACCEPTED"] * len(again))
    assert bool(again) == (name == "acs")


@pytest.mark.parametrize(
    ("status", "taken"),
    # 503 and a client error: the request was not acted on. 500, 502 and 504 may come after the
    # provider took the message, and so may a success that is not the provider's own answer,
    # or a conflict (the provider has the message already).
    [
        *[(status, False) for status in (503, 429, 401, 404)],
        *[(status, None) for status in (500, 502, 504, 200, 409)],
    ],
)
@pytest.mark.parametrize("name", list(PROVIDERS))
async def test_an_error_answer_says_not_sent_only_where_http_says_the_request_was_not_acted_on(
    name: str, status: int, taken: bool | None
) -> None:
    page = Response(f"<html><body>{status}</body></html>", status, media_type="text/html")
    async with serving(answering(page), grace=0) as url, new_client() as http:
        port = int(url.rpartition(":")[2])
        settings = Settings(_env_file=None, **PROVIDERS[name]().settings(port))  # type: ignore[call-arg]
        send, _ = handover(settings, name, http)
        with pytest.raises((GatewayUnavailable, HandoverAmbiguous)) as failed:
            await send(1)

    expected = GatewayUnavailable if taken is False else HandoverAmbiguous
    assert type(failed.value) is expected, str(failed.value)
