"""Webhook subscriptions: their routes, limits and target checks, and tenancy on every route."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from core.config import Settings
from devstack.processes import free_port
from domain.webhooks import DeliveryRequest, DeliveryStatus, retry_workflow_id
from store.models import WebhookSubscription
from tests.support.answers import assert_problem
from tests.support.inprocess import api_and_worker
from tests.support.polling import completed_manifest
from tests.support.routes import WEBHOOKS
from tests.support.stack import Stack, Tenant
from tests.support.webhooks import (
    Received,
    Receiver,
    deliveries,
    delivery_row,
    place,
    subscribe,
    succeeded,
)
from workflows.webhook_event import WebhookRetryWorkflow


@pytest.fixture
def intruder(stack: Stack, tenant: Tenant) -> Tenant:
    return stack.tenant()


async def test_create_list_get_delete(stack: Stack, tenant: Tenant) -> None:
    created = await subscribe(stack, tenant, "http://127.0.0.1:9/hooks")
    url = f"{WEBHOOKS}/{created['id']}"

    listed = (await stack.api.get(WEBHOOKS, headers=tenant.headers)).json()
    one = (await stack.api.get(url, headers=tenant.headers)).json()
    deleted = await stack.api.delete(url, headers=tenant.headers)
    after = await stack.api.get(url, headers=tenant.headers)

    assert created["secret"].startswith("whsec_")
    assert {"id", "url", "description", "createdAt"} <= set(created)
    assert listed == [one]
    assert "secret" not in one
    assert one["active"] is True
    assert deleted.status_code == 204
    assert after.status_code == 404
    assert after.headers["content-type"].startswith("application/problem+json")


async def test_a_subscription_without_a_description_reads_the_same_listed_and_alone(
    stack: Stack, tenant: Tenant
) -> None:
    body = {"url": "http://127.0.0.1:9/hooks"}
    created = (await stack.api.post(WEBHOOKS, json=body, headers=tenant.headers)).json()

    listed = (await stack.api.get(WEBHOOKS, headers=tenant.headers)).json()
    one = (await stack.api.get(f"{WEBHOOKS}/{created['id']}", headers=tenant.headers)).json()

    assert listed == [one]
    assert "description" not in one


async def one_delivery(
    stack: Stack, tenant: Tenant, receiver: Receiver
) -> tuple[dict[str, Any], Received]:
    """The tenant's subscription to `receiver`, and the one event of an order it delivered."""
    created = await subscribe(stack, tenant, receiver.url)
    await place(stack.api, tenant, "+4799990001")  # one event: completed
    (delivered,) = await receiver.events(1)
    return created, delivered


async def test_another_tenant_can_neither_see_nor_change_a_subscription(
    stack: Stack, tenant: Tenant, intruder: Tenant
) -> None:
    async with Receiver().running() as receiver:
        created, delivered = await one_delivery(stack, tenant, receiver)
        url = f"{WEBHOOKS}/{created['id']}"
        retry = f"{url}/deliveries/{delivered.webhook_id}/retry"

        answers = [
            await stack.api.get(url, headers=intruder.headers),
            await stack.api.delete(url, headers=intruder.headers),
            await stack.api.post(f"{url}/rotate-secret", headers=intruder.headers),
            await stack.api.get(f"{url}/deliveries", headers=intruder.headers),
            await stack.api.post(retry, headers=intruder.headers),
        ]
        theirs = (await stack.api.get(WEBHOOKS, headers=intruder.headers)).json()
        mine = (await stack.api.get(url, headers=tenant.headers)).json()
        await place(stack.api, intruder, "+4799990001")  # the intruder's events are its own
        shipment_id = await place(stack.api, tenant, "+4799990001")
        await completed_manifest(stack.api, tenant.headers, shipment_id)
        await receiver.events(2)

    assert [a.status_code for a in answers] == [404] * 5
    assert all(a.json()["status"] == 404 for a in answers)
    assert theirs == []
    assert mine["id"] == created["id"]
    assert len(receiver.received) == 2
    assert {r.event["data"]["shipmentId"] for r in receiver.received} >= {shipment_id}
    assert len(await deliveries(stack, tenant, created)) == 2


async def test_another_tenant_cannot_retry_a_delivery_through_a_subscription_of_its_own(
    stack: Stack, tenant: Tenant, intruder: Tenant
) -> None:
    """The delivery must belong to the subscription the path names, which the caller owns."""
    async with Receiver().running() as receiver:
        created, delivered = await one_delivery(stack, tenant, receiver)
        own = await subscribe(stack, intruder, "http://127.0.0.1:9/hooks")
        retry = f"{WEBHOOKS}/{own['id']}/deliveries/{delivered.webhook_id}/retry"

        answer = await stack.api.post(retry, headers=intruder.headers)
        await asyncio.sleep(1.5)  # a retry that slipped through would be posted by now

    assert answer.status_code == 404
    assert len(receiver.received) == 1
    assert len(await deliveries(stack, tenant, created)) == 1


async def test_a_tenant_has_at_most_the_limit(stack: Stack, tenant: Tenant) -> None:
    limit = stack.settings.webhook_limit_per_tenant
    for n in range(limit):
        await subscribe(stack, tenant, f"https://hooks.example.no/{n}")

    over = await stack.api.post(
        WEBHOOKS, json={"url": "https://hooks.example.no/over"}, headers=tenant.headers
    )

    assert over.status_code == 409
    assert str(limit) in over.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.no/x",
        "hooks.example.no/x",
        "https:///x",
        "https://user:secret@hooks.example.no/x",
        "https://hooks.example.no:99999/x",
        "https://hooks.example.no/" + "x" * 2048,
    ],
)
async def test_urls_that_cannot_be_targets_are_400(stack: Stack, tenant: Tenant, url: str) -> None:
    response = await stack.api.post(WEBHOOKS, json={"url": url}, headers=tenant.headers)

    assert response.status_code == 400
    assert "url" in response.json()["errors"]


@pytest.fixture(scope="module")
async def guarded_api(stack: Stack) -> Settings:
    """An API (and workers) that refuse private targets, as in production."""
    return stack.settings.model_copy(
        update={
            "api_port": free_port(),
            "temporal_task_queue": f"guarded-{uuid.uuid4().hex[:8]}",
            "webhook_allow_private_targets": False,
        }
    )


PRIVATE = [
    "http://127.0.0.1/hooks",
    "http://localhost:8000/hooks",
    "http://[::1]/hooks",
    "http://10.1.2.3/hooks",
    "http://192.168.0.1/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/hooks",
    "http://224.0.0.1/hooks",
    "http://0.0.0.0/hooks",
]


async def test_private_targets_are_refused_at_creation(
    stack: Stack, tenant: Tenant, guarded_api: Settings
) -> None:
    async with api_and_worker(guarded_api, stack.engine, stack.connection) as api:
        answers = [
            await api.post(WEBHOOKS, json={"url": url}, headers=tenant.headers) for url in PRIVATE
        ]
        listed = (await api.get(WEBHOOKS, headers=tenant.headers)).json()

    assert [a.status_code for a in answers] == [400] * len(PRIVATE)
    assert all("forbidden address" in a.json()["errors"]["url"][0] for a in answers)
    assert listed == []


async def test_a_retry_sends_again_while_the_last_retrys_run_is_still_closing(
    stack: Stack, tenant: Tenant
) -> None:
    """A retry's run that has finished its delivery but not yet closed (here: one no worker
    ever runs) must not stand in for the new retry, or the delivery stays pending for good."""
    async with Receiver().running() as receiver:
        subscription = await subscribe(stack, tenant, receiver.url)
        await place(stack.api, tenant, "+4799990001")
        (delivered,) = await receiver.events(1)
        (finished,) = await succeeded(stack, tenant, subscription)
        await stack.client.start_workflow(
            WebhookRetryWorkflow.run,
            DeliveryRequest(finished["id"], 1.0),
            id=retry_workflow_id(finished["id"]),
            task_queue=f"nobody-{uuid.uuid4().hex[:8]}",
        )
        retry = f"{WEBHOOKS}/{subscription['id']}/deliveries/{finished['id']}/retry"
        answer = await stack.api.post(retry, headers=tenant.headers)
        arrived = await receiver.events(2)

    assert answer.status_code == 202
    assert [r.webhook_id for r in arrived] == [delivered.webhook_id] * 2


# Hosts the resolver cannot even encode: an empty label, a label over 63 characters.
NOT_HOST_NAMES = ["https://a..example.com/hook", f"https://{'x' * 64}.example.com/hook"]


async def test_a_host_that_is_no_host_name_is_a_400_problem_whether_or_not_private_is_allowed(
    stack: Stack, tenant: Tenant, guarded_api: Settings
) -> None:
    async with api_and_worker(guarded_api, stack.engine, stack.connection) as guarded:
        answers = [
            await api.post(WEBHOOKS, json={"url": url}, headers=tenant.headers)
            for api in (stack.api, guarded)
            for url in NOT_HOST_NAMES
        ]
    listed = (await stack.api.get(WEBHOOKS, headers=tenant.headers)).json()

    assert [a.status_code for a in answers] == [400] * 4
    assert all(a.headers["content-type"].startswith("application/problem+json") for a in answers)
    assert all("not a valid host name" in a.json()["errors"]["url"][0] for a in answers)
    assert listed == []


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://127.0.0.1:9/ho\u0000oks"},
        {"url": "http://127.0.0.1:9/hooks", "description": "a\u0000b"},
    ],
    ids=["url", "description"],
)
async def test_a_control_character_is_a_400_problem_naming_the_field(
    stack: Stack, tenant: Tenant, body: dict[str, str]
) -> None:
    """PostgreSQL refuses a NUL in text: taken, it was a 500 there."""
    answer = await stack.api.post(WEBHOOKS, json=body, headers=tenant.headers)
    listed = (await stack.api.get(WEBHOOKS, headers=tenant.headers)).json()

    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    [(field, [message])] = answer.json()["errors"].items()
    assert field == next(k for k, v in body.items() if "\u0000" in v)
    assert "control characters" in message
    assert listed == []


@pytest.mark.both_databases
async def test_creates_at_once_stop_at_the_limit(stack: Stack, tenant: Tenant) -> None:
    limit = stack.settings.webhook_limit_per_tenant
    body = {"url": "https://hooks.example.no/x"}

    answers = await asyncio.gather(
        *(stack.api.post(WEBHOOKS, json=body, headers=tenant.headers) for _ in range(3 * limit))
    )
    listed = (await stack.api.get(WEBHOOKS, headers=tenant.headers)).json()

    codes = [a.status_code for a in answers]
    assert (codes.count(201), codes.count(409)) == (limit, 2 * limit)
    assert len(listed) == limit


@pytest.mark.both_databases
async def test_rotations_at_once_take_turns(stack: Stack, tenant: Tenant) -> None:
    """The second of two rotations at once keeps the first's secret as its previous one, so
    every secret handed out signs for the overlap."""
    for _ in range(stack.settings.webhook_limit_per_tenant):
        created = await subscribe(stack, tenant, "http://127.0.0.1:9/hooks")
        rotate = f"{WEBHOOKS}/{created['id']}/rotate-secret"

        answers = await asyncio.gather(
            *(stack.api.post(rotate, headers=tenant.headers) for _ in range(2))
        )

        assert [a.status_code for a in answers] == [200, 200]
        handed = {a.json()["secret"] for a in answers}
        with Session(stack.engine) as session:
            row = session.get(WebhookSubscription, created["id"])
            assert row is not None
            assert {row.secret, row.previous_secret} == handed


@pytest.mark.both_databases
async def test_a_rotation_beside_a_delete_is_answered_404_or_200(
    stack: Stack, tenant: Tenant
) -> None:
    for _ in range(stack.settings.webhook_limit_per_tenant):
        created = await subscribe(stack, tenant, "http://127.0.0.1:9/hooks")
        url = f"{WEBHOOKS}/{created['id']}"

        deleted, rotated = await asyncio.gather(
            stack.api.delete(url, headers=tenant.headers),
            stack.api.post(f"{url}/rotate-secret", headers=tenant.headers),
        )

        assert deleted.status_code == 204
        assert rotated.status_code in (200, 404), rotated.text
        with Session(stack.engine) as session:
            assert session.get(WebhookSubscription, created["id"]) is None


async def test_deliveries_are_read_page_by_page_past_the_last_one(
    stack: Stack, tenant: Tenant
) -> None:
    """However many failed while a receiver was down, every one can be found to retry."""
    subscription = await subscribe(stack, tenant, "https://receiver.example/hooks")
    made = datetime(2026, 3, 1, tzinfo=UTC)
    # Pairs made in the same second.
    seconds = [made + timedelta(seconds=n // 2) for n in range(5)]
    rows = [delivery_row(subscription["id"], DeliveryStatus.FAILED, at) for at in seconds]
    newest_first = [r.id for r in sorted(rows, key=lambda r: (-r.created_at.timestamp(), r.id))]
    with Session(stack.engine) as session:
        session.add_all(rows)
        session.commit()

    pages, after = [], None
    for _ in range(len(rows) + 1):  # a cursor that read nothing on would repeat its page
        params = {"status": "failed", "pageSize": "2", **({"after": after} if after else {})}
        page = await deliveries(stack, tenant, subscription, **params)
        if not page:
            break
        pages.append([d["id"] for d in page])
        after = page[-1]["id"]

    assert [len(p) for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in p] == newest_first
    unknown = await stack.api.get(
        f"{WEBHOOKS}/{subscription['id']}/deliveries",
        params={"after": str(uuid.uuid4())},
        headers=tenant.headers,
    )
    assert "after" in assert_problem(unknown, 400)["errors"]
