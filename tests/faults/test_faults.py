"""Faults with real processes: crashes, restarts and outages keep the three promises —
never send twice for one idempotencyId, never answer 2xx for a message that was not handed
over, never lose a status or a report."""

import asyncio
import logging
import time
import uuid
from typing import Any

import httpx
from sqlmodel import Session
from standardwebhooks.webhooks import Webhook
from temporalio.client import WorkflowFailureError

from core.temporal import connect_temporal
from domain.ids import client_reference, workflow_id
from domain.orders import NotificationInput, SmsMessage, Timing
from store import shipments
from tests.api.test_webhooks import WEBHOOKS
from tests.faults.conftest import FaultStack
from tests.helpers import SMS, eventually, random_phone, signed_report, sms_order
from tests.webhooks.receiver import Receiver
from workflows.instant_notification import InstantNotificationWorkflow

log = logging.getLogger(__name__)


def new_org() -> str:
    return f"f{uuid.uuid4().hex[:10]}"


async def messages(faults: FaultStack, org: str, key: str) -> list[dict[str, Any]]:
    reference = client_reference(workflow_id(org, key))
    found: list[dict[str, Any]] = (
        await faults.simulator.get("/messages", params={"reference": reference})
    ).json()
    return found


async def final_status(faults: FaultStack, org: str, shipment_id: str, within: float = 60) -> str:
    async def probe() -> str | None:
        try:
            response = await faults.api.get(
                f"/notifications/api/v1/future/shipment/{shipment_id}", headers=faults.headers(org)
            )
        except httpx.HTTPError:
            return None
        body = response.json() if response.status_code == 200 else {}
        return body["recipients"][0]["status"] if body.get("status") == "Order_Completed" else None

    return await eventually(probe, within, interval=0.2)


async def order_until_answered(
    faults: FaultStack, org: str, order: dict[str, Any], attempts: int = 4
) -> list[httpx.Response]:
    """A client that retries with the same idempotencyId until it gets an answer with ids."""
    answers = []
    for _ in range(attempts):
        try:
            answers.append(await faults.api.post(SMS, json=order, headers=faults.headers(org)))
        except httpx.TransportError:
            await asyncio.sleep(1)
            continue
        if answers[-1].status_code in (200, 201):
            break
        await asyncio.sleep(1)
    return answers


async def test_worker_killed_during_the_handover(faults: FaultStack) -> None:
    org, order = new_org(), sms_order("+4799990012")  # the slow recipient: 2 s at the gateway
    placing = asyncio.create_task(faults.api.post(SMS, json=order, headers=faults.headers(org)))
    await eventually(lambda: messages(faults, org, order["idempotencyId"]))

    await faults.kill("worker")
    await faults.start("worker")
    first = await placing
    answers = [first] + (
        [] if first.status_code in (200, 201) else await order_until_answered(faults, org, order)
    )

    final = answers[-1]
    assert final.status_code in (200, 201), [a.status_code for a in answers]
    assert all(a.status_code in (200, 201, 503) for a in answers)
    sent = await messages(faults, org, order["idempotencyId"])
    assert len(sent) == 1
    shipment_id = final.json()["notification"]["shipmentId"]
    assert await final_status(faults, org, shipment_id) == "SMS_Delivered"


async def test_api_killed_mid_request_and_the_client_retries(faults: FaultStack) -> None:
    org, order = new_org(), sms_order("+4799990012")
    placing = asyncio.create_task(faults.api.post(SMS, json=order, headers=faults.headers(org)))
    await eventually(lambda: messages(faults, org, order["idempotencyId"]))

    await faults.kill("api")
    await faults.start("api")
    lost = await asyncio.gather(placing, return_exceptions=True)
    retried = await order_until_answered(faults, org, order)

    assert isinstance(lost[0], httpx.TransportError)
    assert retried[-1].status_code == 200  # a repeat: the first request started the workflow
    sent = await messages(faults, org, order["idempotencyId"])
    assert len(sent) == 1
    shipment_id = retried[-1].json()["notification"]["shipmentId"]
    assert await final_status(faults, org, shipment_id) == "SMS_Delivered"


async def test_temporal_restart_while_shipments_wait(faults: FaultStack) -> None:
    """Reports and timers pending across a restart of the server (its SQLite file kept)."""
    org = new_org()
    expiring = [
        await faults.api.post(
            SMS, json=sms_order("+4799990004", ttl=60), headers=faults.headers(org)
        )
        for _ in range(3)
    ]
    client = await connect_temporal(faults.settings)
    timed = [await _start_silent(client, faults, org) for _ in range(3)]

    await faults.stop("temporal")
    await asyncio.sleep(3)
    await faults.start("temporal")

    for response in expiring:  # the simulator reports EXPIRED 6 s after the handover
        shipment_id = response.json()["notification"]["shipmentId"]
        assert await final_status(faults, org, shipment_id) == "SMS_Failed_Expired"
    for data in timed:
        handle = client.get_workflow_handle_for(
            InstantNotificationWorkflow.run, workflow_id(org, data.idempotency_id)
        )
        assert (await handle.result()).status == "SMS_Failed_TTL"


async def _start_silent(client: Any, faults: FaultStack, org: str) -> NotificationInput:
    data = NotificationInput(
        org=org,
        idempotency_id=uuid.uuid4().hex,
        request_id=str(uuid.uuid4()),
        fingerprint="f",
        timing=Timing(ttl_seconds=5, grace_seconds=1, handover_seconds=9, attempt_seconds=4.5),
        sms=SmsMessage("+4799990008", "Altinn", "Code 1"),
    )
    await client.start_workflow(
        InstantNotificationWorkflow.run,
        data,
        id=workflow_id(org, data.idempotency_id),
        task_queue=faults.settings.temporal_task_queue,
    )
    return data


async def test_temporal_unreachable_then_back_without_restarting_the_api(
    faults: FaultStack,
) -> None:
    org = new_org()
    await faults.stop("temporal")
    started = time.monotonic()
    during = await faults.api.post(SMS, json=sms_order(), headers=faults.headers(org))
    waited = time.monotonic() - started
    health_during = await faults.api.get("/health")

    await faults.start("temporal")

    async def healthy() -> bool:
        return (await faults.api.get("/health")).status_code == 200

    await eventually(healthy, 60, interval=0.5)
    after = await faults.api.post(SMS, json=sms_order(), headers=faults.headers(org))
    assert during.status_code == 503
    assert during.json()["code"] == "NOT-00004"
    assert waited <= faults.settings.handover_deadline_seconds + 2
    assert health_during.status_code == 503
    assert after.status_code == 201


async def test_gateway_outage_then_recovery(faults: FaultStack) -> None:
    org, order = new_org(), sms_order(random_phone())
    await faults.stop("simulator")
    during = await faults.api.post(SMS, json=order, headers=faults.headers(org))

    await faults.start("simulator")
    after = await faults.api.post(SMS, json=order, headers=faults.headers(org))

    assert during.status_code == 503
    assert during.json()["code"] == "NOT-00004"
    assert after.status_code == 201
    assert len(await messages(faults, org, order["idempotencyId"])) == 1


async def test_worker_down_when_the_order_arrives(faults: FaultStack) -> None:
    """The caller told 503 must not get its message sent later, when a worker picks it up."""
    org, order = new_org(), sms_order(random_phone())
    await faults.stop("worker")
    during = await faults.api.post(SMS, json=order, headers=faults.headers(org))

    await faults.start("worker")
    client = await connect_temporal(faults.settings)
    handle = client.get_workflow_handle_for(
        InstantNotificationWorkflow.run, workflow_id(org, order["idempotencyId"])
    )
    async with asyncio.timeout(30):
        ended = await asyncio.gather(handle.result(), return_exceptions=True)
    sent_meanwhile = await messages(faults, org, order["idempotencyId"])
    after = await faults.api.post(SMS, json=order, headers=faults.headers(org))

    assert during.status_code == 503
    assert isinstance(ended[0], WorkflowFailureError)
    assert sent_meanwhile == []
    assert after.status_code == 201
    assert len(await messages(faults, org, order["idempotencyId"])) == 1


async def test_flood_of_reports_with_duplicates(faults: FaultStack) -> None:
    """1000 report deliveries for 250 shipments: 3 distinct reports each, plus a replay."""
    org = new_org()
    gate = asyncio.Semaphore(20)

    async def place() -> tuple[str, str]:
        order = sms_order("+4799990008", ttl=600)  # silent: only our reports arrive
        async with gate:
            response = await faults.api.post(SMS, json=order, headers=faults.headers(org))
        assert response.status_code == 201
        return order["idempotencyId"], response.json()["notification"]["shipmentId"]

    began = time.monotonic()
    placed = await asyncio.gather(*(place() for _ in range(250)))
    log.warning("placed 250 orders in %.1f s", time.monotonic() - began)
    deliveries = []
    for key, _ in placed:
        reference = client_reference(workflow_id(org, key))
        distinct = [
            signed_report(
                faults.settings.delivery_report_secret,
                {"reference": reference, "status": "DELIVRD", "channel": "SMS"},
            )
            for _ in range(3)
        ]
        deliveries += [*distinct, distinct[0]]  # three reports and one replayed webhook

    async def deliver(body: bytes, headers: dict[str, str]) -> int:
        async with gate:
            for _ in range(5):
                response = await faults.api.post(
                    "/notifications/api/v1/delivery-reports/simulator",
                    content=body,
                    headers=headers,
                )
                if response.status_code < 500:
                    return response.status_code
                await asyncio.sleep(0.5)
            return response.status_code

    started = time.monotonic()
    codes = await asyncio.gather(*(deliver(b, h) for b, h in deliveries))
    flood_seconds = time.monotonic() - started

    log.warning("1000 report deliveries in %.1f s", flood_seconds)
    assert len(deliveries) == 1000
    assert set(codes) == {200}, flood_seconds
    for _, shipment_id in placed:
        assert await final_status(faults, org, shipment_id) == "SMS_Delivered"

    def reports_recorded() -> bool:
        with Session(faults.engine) as session:
            return all(
                len(
                    [
                        e
                        for e in shipments.history(session, shipment_id)
                        if e.kind in ("report", "late_report")
                    ]
                )
                == 3
                for _, shipment_id in placed
            )

    async def all_recorded() -> bool:
        return await asyncio.to_thread(reports_recorded)

    await eventually(all_recorded, 60, interval=0.5)
    log.warning("all recorded %.1f s after the flood began", time.monotonic() - started)


async def test_worker_killed_during_a_webhook_delivery(faults: FaultStack) -> None:
    """The receiver holds the first attempt; the worker dies under it. The next worker delivers
    the same event, with the same webhook-id, once the attempt's time is up."""
    org = new_org()
    async with Receiver(hang=True).running() as receiver:
        created = await faults.api.post(
            WEBHOOKS, json={"url": receiver.url}, headers=faults.headers(org)
        )
        await faults.api.post(SMS, json=sms_order("+4799990001"), headers=faults.headers(org))
        (held,) = await receiver.events(1)
        receiver.hang = False

        await faults.kill("worker")
        await faults.start("worker")
        redelivered = (await receiver.events(2, within=60))[1]

    secret = created.json()["secret"]
    assert redelivered.webhook_id == held.webhook_id
    assert redelivered.body == held.body
    Webhook(secret).verify(redelivered.body, redelivered.headers)
