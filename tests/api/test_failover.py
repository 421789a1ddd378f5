"""Failover on the real stack: two simulators play two independent providers; the first goes
down (refused connections, or 503 and SMTP 451), falls silent, or rests behind its circuit."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.engine import Engine
from temporalio.envconfig import ClientConfigProfile
from temporalio.testing import WorkflowEnvironment

from core.config import Settings
from core.connection import plain_connection
from devstack.scratch import scratch_settings
from devstack.token import auth_headers
from store.engine import create_db_engine
from store.migrate import migrate_database
from tests.support.answers import recipient_status, shipment_id
from tests.support.bodies import email_order, new_key, new_org, sms_order
from tests.support.fakes import twilio as fake_twilio
from tests.support.fakes.twilio import FakeTwilio
from tests.support.inprocess import api_and_worker
from tests.support.polling import completed_manifest, eventually
from tests.support.routes import EMAIL, SMS
from tests.support.serving import serving
from tests.support.simulator import received_for, simulator_in_process
from tests.support.store import history, shipment_row
from workflows import search_attributes

COOLDOWN = 1.0


@dataclass
class FailoverStack:
    """Two simulators playing two providers (in the test process, so each test starts them
    afresh in a moment), and an API and a worker of the test's own: every circuit closed."""

    settings: Settings
    engine: Engine
    api: httpx.AsyncClient
    temporal: WorkflowEnvironment
    first: httpx.AsyncClient
    second: httpx.AsyncClient
    running_first: contextlib.AsyncExitStack
    org: str = field(default_factory=new_org)

    @property
    def headers(self) -> dict[str, str]:
        return auth_headers(self.settings, self.org)

    async def take_the_first_down(self) -> None:
        """Stop the first simulator: its ports refuse connections."""
        await self.running_first.aclose()

    async def order(self, route: str, body: dict[str, Any]) -> httpx.Response:
        return await self.api.post(route, json=body, headers=self.headers)

    async def received(self, simulator: httpx.AsyncClient, key: str) -> list[dict[str, Any]]:
        return await received_for(simulator, self.org, key)

    def providers(self, key: str) -> tuple[str | None, list[tuple[str, str | None]]]:
        """The provider named on the order's row, and (kind, provider) of its history."""
        row = shipment_row(self.engine, self.org, key)
        assert row is not None
        return row.provider, [(e.kind, e.provider) for e in history(self.engine, row.id)]


def _connection(temporal_env: WorkflowEnvironment) -> ClientConfigProfile:
    return plain_connection(temporal_env.client.service_client.config.target_host)


@pytest.fixture(scope="module")
def failover_settings(
    temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, Engine]]:
    settings = scratch_settings(
        tmp_path_factory.mktemp("failover"),
        temporal_address=temporal_env.client.service_client.config.target_host,
        handover_deadline_seconds=2.0,
        gateway_timeout_seconds=0.5,
        workflow_task_timeout_seconds=1.0,
        ttl_grace_seconds=1,
        sms_providers=["simulator", "simulator2"],
        email_providers=["simulator", "simulator2"],
        provider_failure_threshold=3,
        provider_cooldown_seconds=COOLDOWN,
    )
    migrate_database(settings.database_url)
    engine = create_db_engine(settings.database_url)
    yield settings, engine
    engine.dispose()


@contextlib.asynccontextmanager
async def failover_stack(
    settings: Settings, engine: Engine, temporal_env: WorkflowEnvironment
) -> AsyncIterator[FailoverStack]:
    async with contextlib.AsyncExitStack() as running_first:
        first = await running_first.enter_async_context(simulator_in_process(settings, "simulator"))
        async with (
            simulator_in_process(settings, "simulator2", grace=0) as second,
            api_and_worker(settings, engine, _connection(temporal_env)) as api,
        ):
            yield FailoverStack(settings, engine, api, temporal_env, first, second, running_first)


@pytest.fixture
async def failover(
    failover_settings: tuple[Settings, Engine], temporal_env: WorkflowEnvironment
) -> AsyncIterator[FailoverStack]:
    async with failover_stack(*failover_settings, temporal_env) as stack:
        yield stack


@contextlib.asynccontextmanager
async def twilio_first(
    settings: Settings, engine: Engine, temporal_env: WorkflowEnvironment, twilio: FakeTwilio
) -> AsyncIterator[FailoverStack]:
    """Twilio (no idempotency key) first, the second simulator after it."""
    async with contextlib.AsyncExitStack() as running_first:
        twilio_url = await running_first.enter_async_context(serving(twilio.app, grace=0))
        first = await running_first.enter_async_context(httpx.AsyncClient(base_url=twilio_url))
        twilio_settings = settings.twilio.model_copy(
            update={
                "base_url": twilio_url,
                "account_sid": twilio.account_sid,
                "auth_token": twilio.auth_token,
            }
        )
        settings = settings.model_copy(
            update={"sms_providers": ["twilio", "simulator2"], "twilio": twilio_settings}
        )
        async with (
            simulator_in_process(settings, "simulator2", grace=0) as second,
            api_and_worker(settings, engine, _connection(temporal_env)) as api,
        ):
            yield FailoverStack(settings, engine, api, temporal_env, first, second, running_first)


def handovers(provider: str, outcome: str) -> float:
    """Calls of this process's workers to a provider, with that outcome, so far."""
    labels = {"provider": provider, "outcome": outcome}
    return REGISTRY.get_sample_value("notifications_handover_duration_seconds_count", labels) or 0


async def test_first_provider_refusing_connections_fails_over_to_the_second(
    failover: FailoverStack,
) -> None:
    await failover.take_the_first_down()
    key = new_key()

    response = await failover.order(SMS, sms_order(key=key))

    assert response.status_code == 201, response.text
    [message] = await failover.received(failover.second, key)
    assert message["submissions"] == 1
    manifest = await completed_manifest(failover.api, failover.headers, shipment_id(response))
    assert recipient_status(manifest) == "SMS_Delivered"  # by its report, through simulator2
    provider, events = failover.providers(key)
    assert provider == "simulator2"
    assert ("handover", "simulator2") in events
    assert ("report", "simulator2") in events


async def test_first_provider_answering_503_fails_over_with_exactly_one_message(
    failover: FailoverStack,
) -> None:
    await failover.first.post("/outage", params={"seconds": 60})
    sms_key, email_key = new_key(), new_key()

    sms = await failover.order(SMS, sms_order(key=sms_key))
    email = await failover.order(EMAIL, email_order(key=email_key))

    assert (sms.status_code, email.status_code) == (201, 201)
    for key in (sms_key, email_key):
        assert await failover.received(failover.first, key) == []
        assert [m["submissions"] for m in await failover.received(failover.second, key)] == [1]
    handle = failover.temporal.client.get_workflow_handle(f"instant/{failover.org}/{sms_key}")

    async def provider_attribute() -> list[str] | None:
        found = (await handle.describe()).typed_search_attributes.get(search_attributes.PROVIDER)
        return [found] if found else None

    assert await eventually(provider_attribute) == ["simulator2"]
    manifest = await completed_manifest(failover.api, failover.headers, shipment_id(sms))
    assert recipient_status(manifest) == "SMS_Delivered"


async def test_first_provider_silent_after_the_request_left_is_never_followed_by_another(
    failover_settings: tuple[Settings, Engine], temporal_env: WorkflowEnvironment
) -> None:
    """The simulator recognises a repeat, so it is asked again; the second never is."""
    settings, engine = failover_settings
    # The workflow's share of 2 s rather than 1 s: after the silent 0.5 s call, room for the
    # repeat even where starting the order took a second (on a busy machine, 0.15 s was left).
    roomy = settings.model_copy(update={"handover_deadline_seconds": 3.0})
    key = new_key()

    async with failover_stack(roomy, engine, temporal_env) as failover:
        response = await failover.order(SMS, sms_order(fake_twilio.HANG, key=key))
        on_the_first = await failover.received(failover.first, key)
        on_the_second = await failover.received(failover.second, key)

    assert response.status_code == 503
    assert "may have been sent" in response.json()["detail"]
    [message] = on_the_first
    assert message["submissions"] >= 2
    assert on_the_second == []


@pytest.mark.parametrize(
    "recipient", [fake_twilio.HANG, fake_twilio.EDGE_FAILURE], ids=["silent", "edge-502"]
)
async def test_a_provider_without_deduplication_silent_after_the_request_left_ends_the_handover(
    failover_settings: tuple[Settings, Engine], temporal_env: WorkflowEnvironment, recipient: str
) -> None:
    """Twilio first (no idempotency key), the second simulator after it: Twilio goes silent, or
    its edge answers 502 after Twilio took the message, so the message may have been sent, and
    the second provider is not asked, nor Twilio again by a retry with the same key."""
    settings, engine = failover_settings
    twilio = FakeTwilio()
    async with twilio_first(settings, engine, temporal_env, twilio) as stack:
        key = new_key()
        order = sms_order(recipient, key=key)
        response = await stack.order(SMS, order)
        retried = await stack.order(SMS, order)
        sent_to_the_second = await stack.received(stack.second, key)

    assert response.status_code == retried.status_code == 503
    assert "may have been sent" in response.json()["detail"]
    assert "may have been sent" in retried.json()["detail"]
    assert sent_to_the_second == []
    # The key stays with the order that may have sent: its retry sends nothing.
    assert twilio.asked == 1


async def test_a_refusal_of_the_sender_goes_to_the_next_provider_and_charges_no_circuit(
    failover_settings: tuple[Settings, Engine], temporal_env: WorkflowEnvironment
) -> None:
    """Twilio refuses the sender it was given (21606): nothing was created there, so the next
    provider is asked. One order's sender says nothing of Twilio's health: past the failure
    threshold of such orders, Twilio is still asked first."""
    settings, engine = failover_settings
    twilio = FakeTwilio(refused_from=21606)
    orders = settings.provider_failure_threshold + 1
    async with twilio_first(settings, engine, temporal_env, twilio) as stack:
        keys = [new_key() for _ in range(orders)]
        answers = [await stack.order(SMS, sms_order(key=key)) for key in keys]
        sent = [await stack.received(stack.second, key) for key in keys]

    assert [a.status_code for a in answers] == [201] * orders
    assert [[m["submissions"] for m in s] for s in sent] == [[1]] * orders
    assert twilio.asked == orders  # never skipped: its circuit stayed closed


@pytest.mark.parametrize(
    "recipient", [fake_twilio.HANG, fake_twilio.EDGE_FAILURE], ids=["silent", "edge-502"]
)
async def test_a_provider_failing_past_the_threshold_is_skipped_by_the_next_orders(
    failover_settings: tuple[Settings, Engine], temporal_env: WorkflowEnvironment, recipient: str
) -> None:
    """Twilio never answers, or its edge answers 502 after Twilio took the message: each of
    those messages may have been sent, so none is given to another provider; but the provider
    is failing, and past the threshold the channel's next orders skip it, instead of waiting
    out its silence or its failures as well."""
    settings, engine = failover_settings
    twilio = FakeTwilio()
    threshold = settings.provider_failure_threshold
    async with twilio_first(settings, engine, temporal_env, twilio) as stack:
        failing = [await stack.order(SMS, sms_order(recipient)) for _ in range(threshold)]
        key = new_key()
        after = await stack.order(SMS, sms_order(key=key))
        sent_to_the_second = await stack.received(stack.second, key)

    assert [a.status_code for a in failing] == [503] * threshold
    assert all("may have been sent" in a.json()["detail"] for a in failing)
    assert after.status_code == 201, after.text
    assert twilio.asked == threshold  # skipped while its circuit is open
    assert [m["submissions"] for m in sent_to_the_second] == [1]


async def test_the_circuit_opens_after_the_threshold_and_one_probe_closes_it(
    failover: FailoverStack,
) -> None:
    first = failover.first
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
    for simulator in (failover.first, failover.second):
        await simulator.post("/outage", params={"seconds": 60})
    try:
        for _ in range(3):
            assert (await failover.order(SMS, sms_order())).status_code == 503
        key = new_key()
        resting = await failover.order(SMS, sms_order(key=key))
    finally:
        await failover.second.delete("/outage")

    assert resting.status_code == 503
    assert "resting" in resting.json()["detail"]
    assert 1 <= int(resting.headers["Retry-After"]) <= COOLDOWN
    assert await failover.received(failover.second, key) == []
