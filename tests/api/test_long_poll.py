"""GET of a shipment with waitSeconds: answers once the status is final, or with the current
manifest when the time is up; on SQLite (a shared poll) and PostgreSQL (LISTEN/NOTIFY)."""

import asyncio
import uuid

import httpx
import pytest

from domain.ids import client_reference, workflow_id
from tests.support.bodies import new_key, sms_order
from tests.support.metrics import metric
from tests.support.polling import eventually
from tests.support.reports import signed_report
from tests.support.routes import BASE, SHIPMENT, SIMULATOR_REPORTS, SMS
from tests.support.stack import Stack, Tenant

pytestmark = pytest.mark.both_databases

SILENT = "+4799990008"  # the simulator never reports on it


async def silent_shipment(stack: Stack, tenant: Tenant) -> tuple[str, str]:
    order = sms_order(SILENT, key=new_key())
    created = await stack.api.post(SMS, json=order, headers=tenant.headers)
    assert created.status_code == 201, created.text
    reference = client_reference(workflow_id(tenant.org, order["idempotencyId"]))
    return created.json()["notification"]["shipmentId"], reference


async def deliver_report(stack: Stack, reference: str) -> None:
    body, headers = signed_report(
        stack.settings.delivery_report_secret,
        {"reference": reference, "status": "DELIVRD", "channel": "SMS"},
    )
    answer = await stack.api.post(SIMULATOR_REPORTS, content=body, headers=headers)
    assert answer.status_code == 200


async def test_a_waiting_read_answers_once_the_status_is_final(
    stack: Stack, tenant: Tenant
) -> None:
    shipment_id, reference = await silent_shipment(stack, tenant)
    before = await _metrics(stack)
    loop = asyncio.get_running_loop()
    began = loop.time()
    waiting = asyncio.create_task(
        stack.api.get(
            f"{SHIPMENT}/{shipment_id}", params={"waitSeconds": 30}, headers=tenant.headers
        )
    )
    await reads_waiting(stack, before, 1)  # the read waits before the status changes
    assert not waiting.done()

    await deliver_report(stack, reference)
    answer = await waiting

    assert answer.status_code == 200
    assert answer.json()["status"] == "Order_Completed"
    assert answer.json()["recipients"][0]["status"] == "SMS_Delivered"
    assert loop.time() - began < 30  # woken by the completion, not by its time running out


async def test_a_waiting_read_answers_the_current_manifest_when_the_time_is_up(
    stack: Stack, tenant: Tenant
) -> None:
    shipment_id, _ = await silent_shipment(stack, tenant)

    answer = await stack.api.get(
        f"{SHIPMENT}/{shipment_id}", params={"waitSeconds": 1}, headers=tenant.headers
    )

    assert answer.status_code == 200
    assert answer.json()["recipients"][0]["status"] == "SMS_Accepted"


async def test_a_final_shipment_answers_at_once_and_many_can_wait(
    stack: Stack, tenant: Tenant
) -> None:
    shipment_id, reference = await silent_shipment(stack, tenant)
    url = f"{SHIPMENT}/{shipment_id}"
    before = await _metrics(stack)
    waiting = [
        asyncio.create_task(stack.api.get(url, params={"waitSeconds": 30}, headers=tenant.headers))
        for _ in range(50)
    ]
    await reads_waiting(stack, before, 50)
    await deliver_report(stack, reference)
    answers = await asyncio.gather(*waiting)
    again = await stack.api.get(url, params={"waitSeconds": 30}, headers=tenant.headers)

    assert {a.json()["status"] for a in answers} == {"Order_Completed"}
    assert again.json()["status"] == "Order_Completed"


async def test_a_read_whose_caller_hung_up_stops_waiting(stack: Stack, tenant: Tenant) -> None:
    """Not when its time is up: an abandoned read holds nothing for 30 s, and the request
    metrics count it as 499."""
    shipment_id, _ = await silent_shipment(stack, tenant)
    before = await _metrics(stack)
    async with httpx.AsyncClient(base_url=stack.api.base_url, headers=tenant.headers) as caller:
        waiting = asyncio.create_task(
            caller.get(f"{SHIPMENT}/{shipment_id}", params={"waitSeconds": 30})
        )

        async def held() -> str | None:
            now = await _metrics(stack)
            return now if metric(now, WAITING) > metric(before, WAITING) else None

        during = await eventually(held)
        waiting.cancel()
    loop = asyncio.get_running_loop()
    hung_up = loop.time()

    async def answered() -> str | None:
        now = await _metrics(stack)
        return now if metric(now, ANSWERED, **LEFT) > metric(before, ANSWERED, **LEFT) else None

    after = await eventually(answered, within=10)
    assert loop.time() - hung_up < 10
    assert metric(after, WAITING) == metric(before, WAITING) == metric(during, WAITING) - 1
    assert metric(after, ANSWERED, **LEFT) == metric(before, ANSWERED, **LEFT) + 1


async def reads_waiting(stack: Stack, before: str, count: int) -> None:
    """Until `count` more reads than `before` wait for a completion."""

    async def waiting() -> bool:
        return metric(await _metrics(stack), WAITING) >= metric(before, WAITING) + count

    await eventually(waiting)


WAITING = "notifications_waiting_reads"
ANSWERED = "notifications_http_request_duration_seconds_count"
LEFT = {"method": "GET", "route": f"{BASE}/future/shipment/{{shipment_id}}", "status_code": "499"}


async def _metrics(stack: Stack) -> str:
    return (await stack.api.get("/metrics")).text


@pytest.mark.parametrize("wait", ["-1", "31", "soon"])
async def test_wait_seconds_out_of_range_is_400(stack: Stack, tenant: Tenant, wait: str) -> None:
    shipment_id = str(uuid.uuid4())  # the parameter is checked before the shipment is looked up

    answer = await stack.api.get(
        f"{SHIPMENT}/{shipment_id}", params={"waitSeconds": wait}, headers=tenant.headers
    )

    assert answer.status_code == 400
    assert "waitSeconds" in answer.json()["errors"]


async def test_waiting_for_another_tenants_shipment_is_404(stack: Stack, tenant: Tenant) -> None:
    shipment_id, _ = await silent_shipment(stack, tenant)

    answer = await stack.api.get(
        f"{SHIPMENT}/{shipment_id}",
        params={"waitSeconds": 5},
        headers=stack.tenant().headers,
    )

    assert answer.status_code == 404
