"""Faults with real processes: crashes, restarts and outages keep the three promises —
never send twice for one idempotencyId, never answer 2xx for a message that was not handed
over, never lose a status or a report."""

import asyncio
import logging
import time
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook
from temporalio.client import WorkflowFailureError

from domain.orders import NotificationInput
from tests.support import polling
from tests.support.answers import shipment_id
from tests.support.bodies import new_org, random_phone, reference_of, sms_order
from tests.support.polling import eventually
from tests.support.reports import signed_report, sms_report
from tests.support.routes import SIMULATOR_REPORTS, SMS, WEBHOOKS
from tests.support.simulator import received_for
from tests.support.stack import FaultStack
from tests.support.store import history, reports_in
from tests.support.webhooks import Receiver
from tests.support.workflows import notification_input, start_notification

log = logging.getLogger(__name__)


async def final_status(faults: FaultStack, org: str, shipment: str) -> str:
    """Patient: the API or Temporal may be coming back from a restart."""
    return await polling.final_status(faults.api, faults.headers(org), shipment, within=60)


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
    await eventually(lambda: received_for(faults.simulator, org, order["idempotencyId"]))

    await faults.kill("worker")
    await faults.start("worker")
    first = await placing
    answers = [first] + (
        [] if first.status_code in (200, 201) else await order_until_answered(faults, org, order)
    )

    final = answers[-1]
    assert final.status_code in (200, 201), [a.status_code for a in answers]
    assert all(a.status_code in (200, 201, 503) for a in answers)
    sent = await received_for(faults.simulator, org, order["idempotencyId"])
    assert len(sent) == 1
    assert await final_status(faults, org, shipment_id(final)) == "SMS_Delivered"


async def test_a_repeat_right_after_the_worker_died_is_answered_in_time(
    faults: FaultStack,
) -> None:
    """The order's workflow was cached by the worker that died: the repeat's task waits on that
    worker's sticky queue before another worker takes it, and must not outwait the deadline."""
    org, order = new_org(), sms_order("+4799990008", ttl=600)  # silent: the order stays open
    first = await faults.api.post(SMS, json=order, headers=faults.headers(org))

    await faults.kill("worker")
    await faults.start("worker")
    repeat = await faults.api.post(SMS, json=order, headers=faults.headers(org))

    assert (first.status_code, repeat.status_code) == (201, 200), repeat.text
    assert shipment_id(repeat) == shipment_id(first)


async def test_api_killed_mid_request_and_the_client_retries(faults: FaultStack) -> None:
    org, order = new_org(), sms_order("+4799990012")
    placing = asyncio.create_task(faults.api.post(SMS, json=order, headers=faults.headers(org)))
    await eventually(lambda: received_for(faults.simulator, org, order["idempotencyId"]))

    await faults.kill("api")
    await faults.start("api")
    lost = await asyncio.gather(placing, return_exceptions=True)
    retried = await order_until_answered(faults, org, order)

    assert isinstance(lost[0], httpx.TransportError)
    assert retried[-1].status_code == 200  # a repeat: the first request started the workflow
    sent = await received_for(faults.simulator, org, order["idempotencyId"])
    assert len(sent) == 1
    assert await final_status(faults, org, shipment_id(retried[-1])) == "SMS_Delivered"


async def test_temporal_restart_while_shipments_wait(faults: FaultStack) -> None:
    """Reports and timers pending across a restart of the server (its SQLite file kept)."""
    org = new_org()
    expiring = [
        await faults.api.post(
            SMS, json=sms_order("+4799990004", ttl=60), headers=faults.headers(org)
        )
        for _ in range(3)
    ]
    timed = [await _start_silent(faults, org) for _ in range(3)]

    await faults.stop("temporal")
    await asyncio.sleep(3)
    await faults.start("temporal")

    for response in expiring:  # the simulator reports EXPIRED 6 s after the handover
        assert await final_status(faults, org, shipment_id(response)) == "SMS_Failed_Expired"
    for data in timed:
        handle = faults.workflow(org, data.idempotency_id)
        assert (await handle.result()).status == "SMS_Failed_TTL"


async def _start_silent(faults: FaultStack, org: str) -> NotificationInput:
    data = notification_input(org, ttl=5, grace=1, sms="+4799990008")
    await start_notification(faults.client, faults.settings.temporal_task_queue, data)
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

    async def accepted() -> bool:
        answer = await faults.api.post(SMS, json=sms_order(), headers=faults.headers(org))
        # The worker's pollers reconnect on their own backoff, which may outlast one deadline.
        assert answer.status_code in (201, 503), answer.text
        return answer.status_code == 201

    await eventually(healthy, 60, interval=0.5)
    await eventually(accepted, 60, interval=0.5)
    assert during.status_code == 503
    assert during.json()["code"] == "NOT-00004"
    assert waited <= faults.settings.handover_deadline_seconds + 2
    assert health_during.status_code == 503


async def test_gateway_outage_then_recovery(faults: FaultStack) -> None:
    org, order = new_org(), sms_order(random_phone())
    await faults.stop("simulator")
    during = await faults.api.post(SMS, json=order, headers=faults.headers(org))

    await faults.start("simulator")
    after = await faults.api.post(SMS, json=order, headers=faults.headers(org))

    assert during.status_code == 503
    assert during.json()["code"] == "NOT-00004"
    assert after.status_code == 201
    assert len(await received_for(faults.simulator, org, order["idempotencyId"])) == 1


async def test_worker_down_when_the_order_arrives(faults: FaultStack) -> None:
    """The caller told 503 must not get its message sent later, when a worker picks it up."""
    org, order = new_org(), sms_order(random_phone())
    await faults.stop("worker")
    during = await faults.api.post(SMS, json=order, headers=faults.headers(org))

    await faults.start("worker")
    handle = faults.workflow(org, order["idempotencyId"])
    async with asyncio.timeout(30):
        ended = await asyncio.gather(handle.result(), return_exceptions=True)
    sent_meanwhile = await received_for(faults.simulator, org, order["idempotencyId"])
    after = await faults.api.post(SMS, json=order, headers=faults.headers(org))

    assert during.status_code == 503
    assert isinstance(ended[0], WorkflowFailureError)
    assert sent_meanwhile == []
    assert after.status_code == 201
    assert len(await received_for(faults.simulator, org, order["idempotencyId"])) == 1


async def test_flood_of_reports_with_duplicates(faults: FaultStack) -> None:
    """1000 report deliveries for 250 shipments: 3 distinct reports each, plus a replay."""
    org = new_org()
    gate = asyncio.Semaphore(20)

    async def place() -> tuple[str, str]:
        order = sms_order("+4799990008", ttl=600)  # silent: only our reports arrive
        async with gate:
            response = await faults.api.post(SMS, json=order, headers=faults.headers(org))
        assert response.status_code == 201
        return order["idempotencyId"], shipment_id(response)

    began = time.monotonic()
    placed = await asyncio.gather(*(place() for _ in range(250)))
    log.warning("placed 250 orders in %.1f s", time.monotonic() - began)
    deliveries = []
    for key, _ in placed:
        payload = sms_report(reference_of(org, key), "DELIVRD")
        distinct = [
            signed_report(faults.settings.delivery_report_secret, payload) for _ in range(3)
        ]
        deliveries += [*distinct, distinct[0]]  # three reports and one replayed webhook

    async def deliver(body: bytes, headers: dict[str, str]) -> int:
        async with gate:
            for _ in range(5):
                response = await faults.api.post(SIMULATOR_REPORTS, content=body, headers=headers)
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
    for _, shipment in placed:
        assert await final_status(faults, org, shipment) == "SMS_Delivered"

    def reports_recorded() -> bool:
        return all(len(reports_in(history(faults.engine, shipment))) == 3 for _, shipment in placed)

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
