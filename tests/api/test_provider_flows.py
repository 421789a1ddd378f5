"""Each real provider end to end: order → handover to a local server speaking the provider's
protocol → that server's own delivery report to our report route → the final status."""

import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from devstack.processes import free_port
from devstack.token import mint_token
from store import shipments
from store.engine import create_db_engine
from store.migrate import migrate_database
from store.models import DeadReport, HeldReport
from tests.conftest import api_and_worker, stack_settings
from tests.gateways.fakes import linkmobility as fake_lm
from tests.gateways.fakes import twilio as fake_twilio
from tests.gateways.fakes.acs import FakeAcs, validation_event
from tests.gateways.fakes.linkmobility import FakeLinkMobility
from tests.gateways.fakes.smtp import FakeSmtp
from tests.gateways.fakes.tls import self_signed
from tests.gateways.fakes.twilio import FakeTwilio
from tests.helpers import (
    EMAIL,
    REPORTS,
    SMS,
    completed_manifest,
    email_order,
    eventually,
    sms_order,
)
from tests.serving import serving


@dataclass
class ProviderStack:
    api: httpx.AsyncClient
    headers: dict[str, str]
    database_url: str
    twilio: FakeTwilio | None = None
    smtp: FakeSmtp | None = None
    link: FakeLinkMobility | None = None
    acs: FakeAcs | None = None

    async def order(self, route: str, body: dict[str, Any], status: int = 201) -> str:
        response = await self.api.post(route, json=body, headers=self.headers)
        assert response.status_code == status, response.text
        shipment_id: str = response.json()["notification"]["shipmentId"]
        return shipment_id

    async def final_status(self, shipment_id: str) -> str:
        manifest = await completed_manifest(self.api, self.headers, shipment_id)
        status: str = manifest["recipients"][0]["status"]
        return status


async def answers(sent: list[httpx.Response], before: int, count: int) -> list[httpx.Response]:
    """Our answers to the provider's own requests: the provider may note them after the
    shipment has already completed."""

    async def probe() -> list[httpx.Response] | None:
        return sent[before : before + count] if len(sent) >= before + count else None

    return await eventually(probe)


def _headers(secret: str) -> dict[str, str]:
    token = mint_token(
        secret, f"org{uuid.uuid4().hex[:10]}", "altinn:serviceowner/notifications.create"
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
async def twilio_and_smtp(
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
    certificate: tuple[ssl.SSLContext, Path],
) -> AsyncIterator[ProviderStack]:
    """SMS_PROVIDER=twilio, EMAIL_PROVIDER=smtp (STARTTLS, AUTH, DSN relayed to the route)."""
    twilio, smtp = FakeTwilio(), FakeSmtp()
    target = temporal_env.client.service_client.config.target_host
    api_port = free_port()
    public = f"http://127.0.0.1:{api_port}"
    smtp.report_url = f"{public}{REPORTS}/smtp?code=dsn-secret"
    async with serving(twilio.app) as twilio_url, smtp.running("starttls", certificate[0]) as port:
        settings = stack_settings(
            tmp_path_factory.mktemp("twilio-smtp"),
            target,
            api_port=api_port,
            public_base_url=public,
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
        )
        migrate_database(settings.database_url)
        engine = create_db_engine(settings.database_url)
        async with api_and_worker(temporal_env.client, settings, engine) as api:
            headers = _headers(settings.auth_jwt_secret)
            yield ProviderStack(api, headers, settings.database_url, twilio=twilio, smtp=smtp)
        engine.dispose()


@pytest.fixture(scope="module")
async def link_and_acs(
    temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ProviderStack]:
    """SMS_PROVIDER=linkmobility, EMAIL_PROVIDER=acs (reports through Event Grid)."""
    link, acs = FakeLinkMobility(), FakeAcs()
    target = temporal_env.client.service_client.config.target_host
    async with serving(link.app) as link_url, serving(acs.app) as acs_url:
        settings = stack_settings(
            tmp_path_factory.mktemp("link-acs"),
            target,
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
        )
        api_url = f"http://127.0.0.1:{settings.api_port}"
        link.report_url = f"{api_url}{REPORTS}/linkmobility"
        acs.webhook_url = f"{api_url}{REPORTS}/acs?code=grid-secret"
        migrate_database(settings.database_url)
        engine = create_db_engine(settings.database_url)
        async with api_and_worker(temporal_env.client, settings, engine) as api:
            headers = _headers(settings.auth_jwt_secret)
            yield ProviderStack(api, headers, settings.database_url, link=link, acs=acs)
        engine.dispose()


@pytest.mark.parametrize(
    ("phone", "status"),
    [("+4791234567", "SMS_Delivered"), (fake_twilio.BARRED, "SMS_Failed_BarredReceiver")],
)
async def test_twilio_status_callbacks_decide(
    twilio_and_smtp: ProviderStack, phone: str, status: str
) -> None:
    stack = twilio_and_smtp
    assert stack.twilio is not None
    before = len(stack.twilio.callbacks)
    shipment_id = await stack.order(SMS, sms_order(phone))

    assert await stack.final_status(shipment_id) == status
    callbacks = await answers(stack.twilio.callbacks, before, 2)  # sent, then the final one
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
    engine = create_db_engine(stack.database_url)
    with Session(engine) as session:
        events = shipments.history(session, shipment_id)
    engine.dispose()
    reports = [(e.provider_status, e.applied) for e in events if e.kind == "report"]
    return reports if len(reports) >= min_reports else None


async def test_twilio_refusal_of_the_number_is_final_at_once(
    twilio_and_smtp: ProviderStack,
) -> None:
    shipment_id = await twilio_and_smtp.order(SMS, sms_order(fake_twilio.INVALID))
    assert await twilio_and_smtp.final_status(shipment_id) == "SMS_Failed_InvalidRecipient"


@pytest.mark.parametrize(
    ("local", "status"), [("kari", "Email_Delivered"), ("bounced", "Email_Failed_Bounced")]
)
async def test_smtp_delivery_status_notifications_decide(
    twilio_and_smtp: ProviderStack, local: str, status: str
) -> None:
    stack = twilio_and_smtp
    assert stack.smtp is not None
    before = len(stack.smtp.notifications)
    shipment_id = await stack.order(EMAIL, email_order(f"{local}@example.no"))

    assert await stack.final_status(shipment_id) == status
    received = stack.smtp.received[-1]
    assert (received.tls, received.auth) == (True, "PLAIN")
    assert received.envid is not None
    [notification] = await answers(stack.smtp.notifications, before, 1)
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
    before = len(stack.link.acknowledgements)
    shipment_id = await stack.order(SMS, sms_order(phone))

    assert await stack.final_status(shipment_id) == status
    [acknowledgement] = await answers(stack.link.acknowledgements, before, 1)
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
    shipment_id = await stack.order(EMAIL, email_order(f"{local}@example.no"))

    assert await stack.final_status(shipment_id) == status
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


async def test_report_before_its_gateway_reference_is_held_then_applied(
    link_and_acs: ProviderStack,
) -> None:
    """A report that outruns the record of the handover is held, not lost: the workflow takes
    it when it records the gateway reference."""
    stack = link_and_acs
    assert stack.link is not None
    reference = f"EARLY{uuid.uuid4().hex.upper()}"
    early = await stack.link.delivery_report(reference, fake_lm.SILENT, "DELIVRD")
    assert early.status_code == 200
    stack.link.next_refs.append(reference)

    shipment_id = await stack.order(SMS, sms_order("+" + fake_lm.SILENT))

    assert await stack.final_status(shipment_id) == "SMS_Delivered"
    engine = create_db_engine(stack.database_url)
    with Session(engine) as session:
        held = session.exec(
            select(HeldReport).where(HeldReport.gateway_reference == reference)
        ).one()
        dead = session.exec(select(DeadReport).where(DeadReport.reference == reference)).all()
    engine.dispose()
    assert (held.shipment_id, held.claimed_by) == (shipment_id, "workflow")
    assert dead == []
