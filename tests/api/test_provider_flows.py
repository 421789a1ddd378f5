"""Each real provider end to end: order → handover to a local server speaking the provider's
protocol → that server's own delivery report to our report route → the final status."""

import asyncio
import email
import email.policy
import json
import ssl
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from api.codec_service import CodecService
from api.reports_inbox import REPORTS_PER_ORDER
from core.config import Settings
from core.connection import plain_connection
from core.temporal import connect_temporal
from devstack.scratch import scratch_settings
from devstack.token import auth_headers
from domain.ids import workflow_id
from store import shipments
from store.engine import create_db_engine
from store.migrate import migrate_database
from store.models import DeadReport, HeldReport
from store.reports import FINAL_ROOM
from tests.support import polling
from tests.support.answers import assert_problem, shipment_id
from tests.support.bodies import email_order, new_org, sms_order
from tests.support.fakes import linkmobility as fake_lm
from tests.support.fakes import twilio as fake_twilio
from tests.support.fakes.acs import FakeAcs, validation_event
from tests.support.fakes.linkmobility import FakeLinkMobility
from tests.support.fakes.smtp import FakeSmtp, Received, delivery_status_notification
from tests.support.fakes.twilio import FakeTwilio
from tests.support.history import completed_history, payloads_in
from tests.support.inprocess import api_and_worker
from tests.support.metrics import metric
from tests.support.polling import eventually
from tests.support.reports import relay_dsn
from tests.support.routes import EMAIL, REPORTS, SMS
from tests.support.serving import serving
from tests.support.stack import SHORT_TIMINGS
from tests.support.store import dead_reports


@dataclass
class ProviderStack:
    settings: Settings
    api: httpx.AsyncClient
    headers: dict[str, str]
    twilio: FakeTwilio | None = None
    smtp: FakeSmtp | None = None
    link: FakeLinkMobility | None = None
    acs: FakeAcs | None = None
    org: str = ""

    async def order(self, route: str, body: dict[str, Any], status: int = 201) -> str:
        response = await self.api.post(route, json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return shipment_id(response)

    async def final_status(self, shipment: str) -> str:
        return await polling.final_status(self.api, self.headers, shipment)


@asynccontextmanager
async def provider_stack(
    env: WorkflowEnvironment, data: Path, **providers: Any
) -> AsyncIterator[ProviderStack]:
    """The API and a worker on a store of their own, with the providers' settings."""
    connection = plain_connection(env.client.service_client.config.target_host)
    settings = scratch_settings(data, **SHORT_TIMINGS, **providers)
    migrate_database(settings.database_url)
    engine = create_db_engine(settings.database_url)
    org = new_org()
    async with api_and_worker(settings, engine, connection) as api:
        yield ProviderStack(settings, api, auth_headers(settings, org), org=org)
    engine.dispose()


async def final_and_answers(
    stack: ProviderStack,
    route: str,
    body: dict[str, Any],
    sent: list[httpx.Response],
    count: int,
) -> tuple[str, list[httpx.Response]]:
    """An order's final status, and our answers to the provider's `count` requests about it:
    the provider may note them after the shipment has already completed."""
    before = len(sent)
    final = await stack.final_status(await stack.order(route, body))

    async def probe() -> list[httpx.Response] | None:
        return sent[before : before + count] if len(sent) >= before + count else None

    return final, await eventually(probe)


@pytest.fixture(scope="module")
async def twilio_and_smtp(
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
    certificate: tuple[ssl.SSLContext, Path],
) -> AsyncIterator[ProviderStack]:
    """SMS_PROVIDER=twilio, EMAIL_PROVIDER=smtp (STARTTLS, AUTH, DSN relayed to the route)."""
    twilio, smtp = FakeTwilio(), FakeSmtp()
    async with (
        serving(twilio.app) as twilio_url,
        smtp.running("starttls", certificate[0]) as port,
        provider_stack(
            temporal_env,
            tmp_path_factory.mktemp("twilio-smtp"),
            sms_providers=["twilio"],
            twilio_base_url=twilio_url,
            twilio_account_sid=twilio.account_sid,
            twilio_auth_token=twilio.auth_token,
            email_providers=["smtp"],
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_tls="starttls",
            smtp_username=smtp.username,
            smtp_password=smtp.password,
            smtp_ca_file=str(certificate[1]),
            smtp_report_secret="dsn-secret",
        ) as stack,
    ):
        smtp.report_url = f"{stack.settings.api_url}{REPORTS}/smtp?code=dsn-secret"
        stack.twilio, stack.smtp = twilio, smtp
        yield stack


@pytest.fixture(scope="module")
async def link_and_acs(
    temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ProviderStack]:
    """SMS_PROVIDER=linkmobility, EMAIL_PROVIDER=acs (reports through Event Grid)."""
    link, acs = FakeLinkMobility(), FakeAcs()
    async with (
        serving(link.app) as link_url,
        serving(acs.app) as acs_url,
        provider_stack(
            temporal_env,
            tmp_path_factory.mktemp("link-acs"),
            sms_providers=["linkmobility"],
            linkmobility_base_url=link_url + "/",
            linkmobility_username=link.username,
            linkmobility_password=link.password,
            linkmobility_report_username=link.report_username,
            linkmobility_report_password=link.report_password,
            email_providers=["acs"],
            acs_endpoint=acs_url,
            acs_access_key=acs.access_key,
            acs_report_secret="grid-secret",
        ) as stack,
    ):
        link.report_url = f"{stack.settings.api_url}{REPORTS}/linkmobility"
        acs.webhook_url = f"{stack.settings.api_url}{REPORTS}/acs?code=grid-secret"
        stack.link, stack.acs = link, acs
        yield stack


@pytest.mark.parametrize(
    ("phone", "status"),
    [("+4791234567", "SMS_Delivered"), (fake_twilio.BARRED, "SMS_Failed_BarredReceiver")],
)
async def test_twilio_status_callbacks_decide(
    twilio_and_smtp: ProviderStack, phone: str, status: str
) -> None:
    stack = twilio_and_smtp
    assert stack.twilio is not None
    # Two callbacks: sent, then the final one.
    final, callbacks = await final_and_answers(
        stack, SMS, sms_order(phone), stack.twilio.callbacks, 2
    )

    assert final == status
    assert [r.status_code for r in callbacks] == [200, 200]
    assert stack.twilio.refused_credentials == 0


async def test_twilio_statuses_we_do_not_map_are_acknowledged_and_kept(
    twilio_and_smtp: ProviderStack,
) -> None:
    """partially_delivered, receiving, received: 200, kept in the shipment's history, and the
    final status still decides."""
    stack = twilio_and_smtp
    assert stack.twilio is not None
    shipment_id = await stack.order(SMS, sms_order(fake_twilio.SILENT))
    form = stack.twilio.created[-1]
    sid = "SM" + uuid.uuid4().hex
    answered = [
        await stack.twilio.status_callback(form, sid, state)
        for state in ("partially_delivered", "receiving", "received", "delivered")
    ]

    assert [r.status_code for r in answered] == [200, 200, 200, 200]
    assert await stack.final_status(shipment_id) == "SMS_Delivered"
    kept = await eventually(lambda: history_of(stack, shipment_id, min_reports=4))
    assert kept == [
        ("partially_delivered", False),
        ("receiving", False),
        ("received", False),
        ("delivered", True),
    ]


async def history_of(
    stack: ProviderStack, shipment_id: str, min_reports: int
) -> list[tuple[str | None, bool]] | None:
    """The reports in a shipment's history: (provider status, applied)."""
    engine = create_db_engine(stack.settings.database_url)
    with Session(engine) as session:
        events = shipments.history(session, shipment_id)
    engine.dispose()
    reports = [(e.provider_status, e.applied) for e in events if e.kind == "report"]
    return reports if len(reports) >= min_reports else None


async def test_twilio_refusal_of_the_number_is_final_at_once(
    twilio_and_smtp: ProviderStack,
) -> None:
    shipment = await twilio_and_smtp.order(SMS, sms_order(fake_twilio.INVALID))
    assert await twilio_and_smtp.final_status(shipment) == "SMS_Failed_InvalidRecipient"


async def test_a_refusal_quoting_the_message_keeps_its_code_out_of_history_and_temporal(
    twilio_and_smtp: ProviderStack, temporal_env: WorkflowEnvironment
) -> None:
    stack = twilio_and_smtp
    code = f"{uuid.uuid4().int % 1_000_000:06d}"
    order = sms_order(fake_twilio.QUOTING, body=f"Your code is {code}")

    shipment = await stack.order(SMS, order)

    assert await stack.final_status(shipment) == "SMS_Failed"
    engine = create_db_engine(stack.settings.database_url)
    with Session(engine) as session:
        details = [e.detail or "" for e in shipments.history(session, shipment)]
    engine.dispose()
    assert any("30007 Message filtered" in detail for detail in details), details
    assert not any(code in detail for detail in details)
    # As Temporal stores it, then as the codec server opens it for the UI.
    key = workflow_id(stack.org, order["idempotencyId"])
    target = temporal_env.client.service_client.config.target_host
    client = await connect_temporal(stack.settings, plain_connection(target))
    handle = client.get_workflow_handle(key)
    payloads = payloads_in(await completed_history(handle))
    shown = await CodecService(stack.settings.payload_encryption_key).decode(payloads)
    assert not [p for p in shown if code.encode() in p.data]


@pytest.mark.parametrize(
    ("local", "status"), [("kari", "Email_Delivered"), ("bounced", "Email_Failed_Bounced")]
)
async def test_smtp_delivery_status_notifications_decide(
    twilio_and_smtp: ProviderStack, local: str, status: str
) -> None:
    stack = twilio_and_smtp
    assert stack.smtp is not None
    final, [notification] = await final_and_answers(
        stack, EMAIL, email_order(f"{local}@example.no"), stack.smtp.notifications, 1
    )

    assert final == status
    received = stack.smtp.received[-1]
    assert (received.tls, received.auth) == (True, "PLAIN")
    assert received.envid is not None
    assert notification.status_code == 200


@pytest.mark.parametrize(
    ("phone", "status"),
    [("+4791234567", "SMS_Delivered"), ("+" + fake_lm.BARRED, "SMS_Failed_BarredReceiver")],
)
async def test_link_mobility_delivery_reports_decide(
    link_and_acs: ProviderStack, phone: str, status: str
) -> None:
    stack = link_and_acs
    assert stack.link is not None
    final, [acknowledgement] = await final_and_answers(
        stack, SMS, sms_order(phone), stack.link.acknowledgements, 1
    )

    assert final == status
    assert acknowledgement.status_code == 200
    assert b"<STATUS>OK</STATUS>" in acknowledgement.content


@pytest.mark.parametrize(
    ("local", "status"),
    [
        ("kari", "Email_Delivered"),
        ("bounced", "Email_Failed_Bounced"),
        ("suppressed", "Email_Failed_SuppressedRecipient"),
        ("invalid", "Email_Failed_InvalidFormat"),
    ],
)
async def test_acs_event_grid_reports_decide(
    link_and_acs: ProviderStack, local: str, status: str
) -> None:
    stack = link_and_acs
    assert stack.acs is not None
    shipment = await stack.order(EMAIL, email_order(f"{local}@example.no"))

    assert await stack.final_status(shipment) == status
    assert stack.acs.signature_failures == 0


async def test_event_grid_subscription_validation_is_answered(link_and_acs: ProviderStack) -> None:
    assert link_and_acs.acs is not None
    response = await link_and_acs.acs.deliver([validation_event("512d38b6-c7b8-40c8")])

    assert response.status_code == 200
    assert response.json() == {"validationResponse": "512d38b6-c7b8-40c8"}


async def test_each_report_of_a_link_mobility_batch_stands_on_its_own(
    link_and_acs: ProviderStack,
) -> None:
    """One batch: a delivered report, a state we do not know, one without a REF. The delivered
    shipment is delivered, the unknown state is kept in the other's history, the third is a
    dead report, and the gateway hears OK for every message."""
    stack = link_and_acs
    assert stack.link is not None
    references = [f"B{uuid.uuid4().hex.upper()}" for _ in range(2)]
    stack.link.next_refs.extend(references)
    delivered = await stack.order(SMS, sms_order("+" + fake_lm.SILENT))
    pending = await stack.order(SMS, sms_order("+" + fake_lm.SILENT))

    answer = await stack.link.delivery_batch(
        [
            (references[0], fake_lm.SILENT, "DELIVRD"),
            (references[1], fake_lm.SILENT, "TELEPORTED"),
            (None, fake_lm.SILENT, "DELIVRD"),
        ]
    )

    assert answer.status_code == 200
    assert answer.content.count(b"<STATUS>OK</STATUS>") == 3
    assert await stack.final_status(delivered) == "SMS_Delivered"
    assert await eventually(lambda: history_of(stack, pending, min_reports=1)) == [
        ("TELEPORTED", False)
    ]


REPORT_COUNT = "notifications_delivery_reports_total"


async def test_report_before_its_gateway_reference_is_held_then_applied(
    link_and_acs: ProviderStack,
) -> None:
    """A report that outruns the record of the handover is held, not lost: the workflow takes
    it when it records the gateway reference."""
    stack = link_and_acs
    assert stack.link is not None
    reference = f"EARLY{uuid.uuid4().hex.upper()}"
    series = {"provider": "linkmobility", "outcome": "held"}
    before = metric((await stack.api.get("/metrics")).text, REPORT_COUNT, **series)
    early = await stack.link.delivery_report(reference, fake_lm.SILENT, "DELIVRD")
    assert early.status_code == 200
    assert metric((await stack.api.get("/metrics")).text, REPORT_COUNT, **series) == before + 1
    stack.link.next_refs.append(reference)

    shipment = await stack.order(SMS, sms_order("+" + fake_lm.SILENT))

    assert await stack.final_status(shipment) == "SMS_Delivered"
    engine = create_db_engine(stack.settings.database_url)
    with Session(engine) as session:
        held = session.exec(
            select(HeldReport).where(HeldReport.gateway_reference == reference)
        ).one()
    dead = dead_reports(engine, reference)
    engine.dispose()
    assert (held.shipment_id, held.claimed_by) == (shipment, "workflow")
    assert dead == []


def sms_with(body: str, sender: str | None = None) -> dict[str, Any]:
    order = sms_order(body=body)
    if sender is not None:
        order["recipientSms"]["smsSettings"]["sender"] = sender
    return order


async def refusal(stack: ProviderStack, order: dict[str, Any]) -> dict[str, list[str]]:
    response = await stack.api.post(SMS, json=order, headers=stack.headers)
    assert response.status_code == 400, response.text
    errors: dict[str, list[str]] = response.json()["errors"]
    return errors


async def test_link_mobility_gets_the_longest_body_it_carries_whole(
    link_and_acs: ProviderStack,
) -> None:
    """Its gateway cuts a text after 16 parts of 134 characters; up to that it arrives whole."""
    stack = link_and_acs
    assert stack.link is not None
    body = ("Your code is 123456. " * 103)[:2144]
    await stack.order(SMS, sms_with(body, "(TEST) SMS"))
    sent = stack.link.submitted[-1]
    assert (sent["TEXT"], sent["SND"]) == (body, "(TEST) SMS")

    before = len(stack.link.submitted)
    errors = await refusal(stack, sms_with(body + "x"))
    assert errors["recipientSms.smsSettings.body"] == [
        "The SMS body is 2145 GSM characters long; Link Mobility carries at most 2144 "
        "and would cut off the rest."
    ]
    assert len(stack.link.submitted) == before


async def test_link_mobility_gets_a_numeric_sender_without_its_plus(
    link_and_acs: ProviderStack,
) -> None:
    assert link_and_acs.link is not None
    await link_and_acs.order(SMS, sms_with("Your code is 123456", "+4790000000"))
    assert link_and_acs.link.submitted[-1]["SND"] == "4790000000"


async def test_twilio_gets_the_longest_body_it_takes(twilio_and_smtp: ProviderStack) -> None:
    stack = twilio_and_smtp
    assert stack.twilio is not None
    body = "x" * 1600
    await stack.order(SMS, sms_with(body, "Kari_Nordm"))
    assert (stack.twilio.created[-1]["Body"], stack.twilio.created[-1]["From"]) == (
        body,
        "Kari_Nordm",
    )

    errors = await refusal(stack, sms_with(body + "x", "(TEST) SMS"))
    assert errors == {
        "recipientSms.smsSettings.body": [
            "The SMS body is 1601 GSM characters long; Twilio carries at most 1600 "
            "and would cut off the rest."
        ],
        "recipientSms.smsSettings.sender": [
            "A sender name through Twilio has at least one letter and only A-Z, a-z, 0-9, "
            "space and +-_& (no national letters)."
        ],
    }


async def test_a_long_subject_reaches_the_mail_server_folded_and_whole(
    twilio_and_smtp: ProviderStack,
) -> None:
    """RFC 5322 lets a header run over several lines; the email package folds a long subject
    (encoded words where a line has no space to break at) and a reader unfolds it whole."""
    stack = twilio_and_smtp
    assert stack.smtp is not None
    words = "Kvittering for innsending av skjema RF-1086 for 2026, med vedlegg og merknader. "
    for subject in ((words * 7)[:500], "x" * 500, ("Frist: 1. mai for æøå-søknad. " * 17)[:500]):
        await stack.order(EMAIL, email_order(subject=subject))
        raw = stack.smtp.received[-1].content
        assert max(len(line) for line in raw.split(b"\r\n")) <= 78
        mail = email.message_from_bytes(raw, policy=email.policy.default)
        assert mail["Subject"] == subject


@pytest.mark.parametrize("relayed", ["after", "before its end"])
async def test_a_message_taken_without_an_answer_is_decided_by_its_bounce(
    twilio_and_smtp: ProviderStack, relayed: str
) -> None:
    """The server took the message, then the line broke before its answer: the caller hears
    it may have been sent, and the DSN the server mails afterwards still decides the shipment,
    also one relayed before the handover ended (held, then claimed as it ends)."""
    stack, smtp = twilio_and_smtp, twilio_and_smtp.smtp
    assert smtp is not None
    order, taken = email_order("drop@example.no"), len(smtp.received)
    smtp.line_breaks = asyncio.Event()

    async def relay_the_dsn() -> None:
        async def took() -> Received | None:
            return smtp.received[-1] if len(smtp.received) > taken else None

        dsn = delivery_status_notification(await eventually(took), "delivered", "2.0.0")
        relayed = await relay_dsn(stack.api, dsn)
        assert relayed.status_code == 200, relayed.text

    answering = asyncio.create_task(stack.api.post(EMAIL, json=order, headers=stack.headers))
    if relayed == "before its end":
        await relay_the_dsn()
    smtp.line_breaks.set()
    problem = assert_problem(await answering, 503)
    assert "may have been sent" in problem["detail"]
    if relayed == "after":
        await relay_the_dsn()

    async def answered_again() -> httpx.Response | None:
        again = await stack.api.post(EMAIL, json=order, headers=stack.headers)
        return again if again.status_code == 200 else None

    ids = await eventually(answered_again, within=20)
    assert await stack.final_status(shipment_id(ids)) == "Email_Delivered"
    assert len(smtp.received) == taken + 1  # one message, whatever the retries
    # The one DSN, applied once, whichever way it reached the workflow.
    assert await history_of(stack, shipment_id(ids), min_reports=1) == [("delivered 2.0.0", True)]


async def test_reports_held_for_a_handover_stop_at_the_fill(link_and_acs: ProviderStack) -> None:
    """The workflow claims every report held for it when its handover is recorded: past the
    fill, reports are kept as dead reports instead, also when they come at once, and final
    ones only after a few more."""
    stack = link_and_acs
    assert stack.link is not None
    link, reference = stack.link, f"EARLY{uuid.uuid4().hex.upper()}"
    batch: list[tuple[str | None, str, str]] = [(reference, fake_lm.SILENT, "ENROUTE")] * 15
    final: list[tuple[str | None, str, str]] = [(reference, fake_lm.SILENT, "DELIVRD")] * 15

    flood = await asyncio.gather(*(link.delivery_batch(batch) for _ in range(7)))
    finals = await link.delivery_batch(final)

    assert {a.status_code for a in [*flood, finals]} == {200}
    engine = create_db_engine(stack.settings.database_url)
    with Session(engine) as session:
        held = session.exec(select(HeldReport).where(HeldReport.gateway_reference == reference))
        dead = session.exec(select(DeadReport).where(DeadReport.reference == reference))
        states = Counter(json.loads(h.report)["provider_status"] for h in held.all())
        reasons = [d.reason for d in dead.all()]
    engine.dispose()
    assert states == {"ENROUTE": REPORTS_PER_ORDER, "DELIVRD": FINAL_ROOM}
    assert reasons == ["SURPLUS_HELD"] * (5 + 15 - FINAL_ROOM)
