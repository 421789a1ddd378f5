"""Failover on the real stack: two simulators play two independent providers; the first goes
down (refused connections, or 503 and SMTP 451), falls silent, or rests behind its circuit."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from core.config import Settings
from devstack import services
from devstack.processes import ProcessGroup, free_port
from devstack.token import mint_token
from domain.ids import client_reference, workflow_id
from store import shipments
from store.engine import create_db_engine
from store.migrate import migrate_database
from tests.conftest import api_and_worker, stack_settings
from tests.gateways.fakes import twilio as fake_twilio
from tests.gateways.fakes.twilio import FakeTwilio
from tests.helpers import (
    EMAIL,
    SMS,
    completed_manifest,
    email_order,
    eventually,
    new_key,
    sms_order,
)
from tests.serving import serving
from workflows import search_attributes

COOLDOWN = 2.0


@dataclass
class Simulators:
    settings: Settings
    group: ProcessGroup
    first: httpx.AsyncClient
    second: httpx.AsyncClient


@dataclass
class FailoverStack:
    simulators: Simulators
    api: httpx.AsyncClient
    org: str
    database_url: str
    temporal: WorkflowEnvironment

    @property
    def headers(self) -> dict[str, str]:
        secret = self.simulators.settings.auth_jwt_secret
        token = mint_token(secret, self.org, "altinn:serviceowner/notifications.create")
        return {"Authorization": f"Bearer {token}"}

    async def order(self, route: str, body: dict[str, Any]) -> httpx.Response:
        return await self.api.post(route, json=body, headers=self.headers)

    async def received(self, simulator: httpx.AsyncClient, key: str) -> list[dict[str, Any]]:
        reference = client_reference(workflow_id(self.org, key))
        found = await simulator.get("/messages", params={"reference": reference})
        messages: list[dict[str, Any]] = found.json()
        return messages

    def row(self, shipment_id: str) -> tuple[str | None, list[tuple[str, str | None]]]:
        """The provider named on the shipment's row, and (kind, provider) of its history."""
        engine = create_db_engine(self.database_url)
        with Session(engine) as session:
            row = shipments.find_for_tenant(session, self.org, shipment_id)
            events = shipments.history(session, shipment_id)
        engine.dispose()
        assert row is not None
        return row.provider, [(e.kind, e.provider) for e in events]


@pytest.fixture(scope="module")
async def simulators(
    temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Simulators]:
    """Both simulators, as processes of their own, for the module."""
    target = temporal_env.client.service_client.config.target_host
    settings = stack_settings(
        tmp_path_factory.mktemp("failover"),
        target,
        sms_providers=["simulator", "simulator2"],
        email_providers=["simulator", "simulator2"],
        simulator2_url=f"http://127.0.0.1:{free_port()}",
        simulator2_smtp_port=free_port(),
        provider_failure_threshold=3,
        provider_cooldown_seconds=COOLDOWN,
        gateway_timeout_seconds=1.0,
    )
    migrate_database(settings.database_url)
    group = ProcessGroup(echo=False)
    for name in services.SIMULATORS:
        await group.start(services.simulator(settings, name=name))
    async with (
        httpx.AsyncClient(base_url=settings.simulator.url, timeout=10) as first,
        httpx.AsyncClient(base_url=settings.simulator2.url, timeout=10) as second,
    ):
        yield Simulators(settings, group, first, second)
    await group.stop_all()


@pytest.fixture
async def failover(
    simulators: Simulators, temporal_env: WorkflowEnvironment
) -> AsyncIterator[FailoverStack]:
    """An API and a worker of their own for each test, so each starts with closed circuits."""
    settings = simulators.settings
    engine = create_db_engine(settings.database_url)
    if "simulator" not in simulators.group.processes:
        await simulators.group.start(simulators.group.services["simulator"])
    await simulators.first.delete("/outage")
    async with api_and_worker(temporal_env.client, settings, engine) as api:
        org = f"fo{uuid.uuid4().hex[:10]}"
        yield FailoverStack(simulators, api, org, settings.database_url, temporal_env)
    engine.dispose()


def handovers(provider: str, outcome: str) -> float:
    """Calls of this process's workers to a provider, with that outcome, so far."""
    labels = {"provider": provider, "outcome": outcome}
    return REGISTRY.get_sample_value("notifications_handover_duration_seconds_count", labels) or 0


async def test_first_provider_refusing_connections_fails_over_to_the_second(
    failover: FailoverStack,
) -> None:
    await failover.simulators.group.stop("simulator")
    key = new_key()

    response = await failover.order(SMS, sms_order(key=key))

    assert response.status_code == 201, response.text
    [message] = await failover.received(failover.simulators.second, key)
    assert message["submissions"] == 1
    shipment_id = response.json()["notification"]["shipmentId"]
    manifest = await completed_manifest(failover.api, failover.headers, shipment_id)
    assert manifest["recipients"][0]["status"] == "SMS_Delivered"  # its report, via simulator2
    provider, history = failover.row(shipment_id)
    assert provider == "simulator2"
    assert ("handover", "simulator2") in history
    assert ("report", "simulator2") in history


async def test_first_provider_answering_503_fails_over_with_exactly_one_message(
    failover: FailoverStack,
) -> None:
    await failover.simulators.first.post("/outage", params={"seconds": 60})
    sms_key, email_key = new_key(), new_key()

    sms = await failover.order(SMS, sms_order(key=sms_key))
    email = await failover.order(EMAIL, email_order(key=email_key))

    assert (sms.status_code, email.status_code) == (201, 201)
    for key in (sms_key, email_key):
        assert await failover.received(failover.simulators.first, key) == []
        assert [
            m["submissions"] for m in await failover.received(failover.simulators.second, key)
        ] == [1]
    shipment_id = sms.json()["notification"]["shipmentId"]
    handle = failover.temporal.client.get_workflow_handle(f"instant/{failover.org}/{sms_key}")

    async def provider_attribute() -> list[str] | None:
        found = (await handle.describe()).typed_search_attributes.get(search_attributes.PROVIDER)
        return [found] if found else None

    assert await eventually(provider_attribute) == ["simulator2"]
    manifest = await completed_manifest(failover.api, failover.headers, shipment_id)
    assert manifest["recipients"][0]["status"] == "SMS_Delivered"


async def test_first_provider_silent_after_the_request_left_is_never_followed_by_another(
    failover: FailoverStack,
) -> None:
    """The simulator recognises a repeat, so it is asked again; the second never is."""
    key = new_key()

    response = await failover.order(SMS, sms_order(fake_twilio.HANG, key=key))

    assert response.status_code == 503
    assert "may have been sent" in response.json()["detail"]
    [message] = await failover.received(failover.simulators.first, key)
    assert message["submissions"] >= 2
    assert await failover.received(failover.simulators.second, key) == []


async def test_a_provider_without_deduplication_silent_after_the_request_left_ends_the_handover(
    simulators: Simulators, temporal_env: WorkflowEnvironment
) -> None:
    """Twilio first (no idempotency key), the second simulator after it: Twilio goes silent,
    so the message may have been sent, and the second provider is not asked."""
    twilio = FakeTwilio()
    engine = create_db_engine(simulators.settings.database_url)
    async with serving(twilio.app) as twilio_url:
        settings = simulators.settings.model_copy(
            update={
                "sms_providers": ["twilio", "simulator2"],
                "twilio": simulators.settings.twilio.model_copy(
                    update={
                        "base_url": twilio_url,
                        "account_sid": twilio.account_sid,
                        "auth_token": twilio.auth_token,
                    }
                ),
            }
        )
        async with api_and_worker(temporal_env.client, settings, engine) as api:
            stack = FailoverStack(simulators, api, f"fo{uuid.uuid4().hex[:10]}", "", temporal_env)
            key = new_key()
            response = await stack.order(SMS, sms_order(fake_twilio.HANG, key=key))
    engine.dispose()

    assert response.status_code == 503
    assert "may have been sent" in response.json()["detail"]
    assert await stack.received(simulators.second, key) == []


async def test_the_circuit_opens_after_the_threshold_and_one_probe_closes_it(
    failover: FailoverStack,
) -> None:
    first = failover.simulators.first
    await first.post("/outage", params={"seconds": 60})
    for _ in range(3):  # PROVIDER_FAILURE_THRESHOLD: each one fails over
        assert (await failover.order(SMS, sms_order())).status_code == 201
    asked = handovers("simulator", "unavailable")

    skipped = await failover.order(SMS, sms_order())

    assert skipped.status_code == 201
    assert handovers("simulator", "unavailable") == asked  # not asked while open
    ready = (await failover.api.get("/health/ready")).json()
    assert ready["status"] == "ok"
    assert ("SMS", "simulator") in {(c["channel"], c["provider"]) for c in ready["openCircuits"]}
    gauge = {"channel": "SMS", "provider": "simulator"}
    assert REGISTRY.get_sample_value("notifications_provider_circuit_open", gauge) == 1

    await first.delete("/outage")
    await asyncio.sleep(COOLDOWN)
    key = new_key()
    probe = await failover.order(SMS, sms_order(key=key))

    assert probe.status_code == 201
    assert [m["submissions"] for m in await failover.received(first, key)] == [1]
    assert REGISTRY.get_sample_value("notifications_provider_circuit_open", gauge) == 0
    ready = (await failover.api.get("/health/ready")).json()
    assert ("SMS", "simulator") not in {
        (c["channel"], c["provider"]) for c in ready["openCircuits"]
    }


async def test_every_provider_resting_is_503_at_once_with_its_wait(
    failover: FailoverStack,
) -> None:
    for simulator in (failover.simulators.first, failover.simulators.second):
        await simulator.post("/outage", params={"seconds": 60})
    try:
        for _ in range(3):
            assert (await failover.order(SMS, sms_order())).status_code == 503
        key = new_key()
        resting = await failover.order(SMS, sms_order(key=key))
    finally:
        await failover.simulators.second.delete("/outage")

    assert resting.status_code == 503
    assert "resting" in resting.json()["detail"]
    assert 1 <= int(resting.headers["Retry-After"]) <= COOLDOWN
    assert await failover.received(failover.simulators.second, key) == []
