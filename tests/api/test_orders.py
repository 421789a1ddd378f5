"""Instant orders end to end: API → Update-with-Start → workflow → handover → simulator."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from core.connection import plain_connection
from devstack.processes import free_port
from devstack.temporal_server import temporal_binary
from domain.ids import workflow_id
from domain.orders import NotificationInput
from tests.support.answers import assert_problem, recipient_status, shipment_id
from tests.support.bodies import (
    deprecated_order,
    email_order,
    new_key,
    random_phone,
    sms_order,
)
from tests.support.inprocess import api_and_worker, api_for
from tests.support.polling import completed_manifest, eventually
from tests.support.routes import DEPRECATED, EMAIL, SHIPMENT, SMS
from tests.support.simulator import received_for
from tests.support.stack import Stack, Tenant
from tests.support.store import shipment_row
from workflows import search_attributes

pytestmark = pytest.mark.both_databases


async def test_first_call_creates_and_repeat_returns_same_body(
    stack: Stack, tenant: Tenant
) -> None:
    order = sms_order(sendersReference="case-17")

    first = await stack.api.post(SMS, json=order, headers=tenant.headers)
    again = await stack.api.post(SMS, json=order, headers=tenant.headers)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    body = first.json()
    assert body["notification"]["sendersReference"] == "case-17"
    assert body["notificationOrderId"] != shipment_id(first)
    uuid.UUID(body["notificationOrderId"])
    location = first.headers["location"]
    assert location == f"{SHIPMENT}/{shipment_id(first)}"
    assert again.headers["location"] == location
    resolved = await stack.api.get(location, headers=tenant.headers)
    assert resolved.status_code == 200
    assert resolved.json()["shipmentId"] == shipment_id(first)
    sent = await received_for(stack.simulator, tenant.org, order["idempotencyId"])
    assert len(sent) == 1
    assert sent[0]["submissions"] == 1
    assert sent[0]["body"] == "Your code is 123456"
    assert sent[0]["sender"] == stack.settings.sms_default_sender


async def test_repeats_leave_nothing_in_the_workflows_history(stack: Stack, tenant: Tenant) -> None:
    """A repeat of a decided order is answered in the update's rejection, which Temporal keeps
    out of the history: a caller repeating an order cannot grow it."""
    order = sms_order(phone="+4799990008")  # no report: the workflow stays open
    first = await stack.api.post(SMS, json=order, headers=tenant.headers)
    repeats = [await stack.api.post(SMS, json=order, headers=tenant.headers) for _ in range(3)]

    handle = stack.client.get_workflow_handle(workflow_id(tenant.org, order["idempotencyId"]))
    events = [e async for e in handle.fetch_history_events()]
    assert first.status_code == 201
    assert [r.status_code for r in repeats] == [200] * 3
    assert all(r.json() == first.json() for r in repeats)
    accepted = [
        e for e in events if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(accepted) == 1


async def test_row_exists_when_the_api_answers(stack: Stack, tenant: Tenant) -> None:
    order = sms_order()

    response = await stack.api.post(SMS, json=order, headers=tenant.headers)

    row = shipment_row(stack.engine, tenant.org, order["idempotencyId"])
    assert row is not None
    assert row.id == shipment_id(response)
    assert row.destination == order["recipientSms"]["phoneNumber"]


async def test_the_ttl_counts_from_the_request(stack: Stack, tenant: Tenant) -> None:
    """The API's clock at the request starts the TTL, so a first workflow task that runs late
    does not move the order's expiry."""
    order = sms_order(ttl=600)
    before = datetime.now(UTC)
    response = await stack.api.post(SMS, json=order, headers=tenant.headers)
    after = datetime.now(UTC)

    handle = stack.client.get_workflow_handle(workflow_id(tenant.org, order["idempotencyId"]))
    started = (await handle.fetch_history()).events[0].workflow_execution_started_event_attributes
    [data] = await stack.client.data_converter.decode(started.input.payloads, [NotificationInput])
    requested = data.timing.requested_at
    assert requested is not None
    assert before <= requested <= after
    assert data.timing.answer_by == requested + timedelta(seconds=data.timing.handover_seconds)
    row = shipment_row(stack.engine, tenant.org, order["idempotencyId"])
    assert row is not None
    assert row.id == shipment_id(response)
    assert row.created_at.replace(tzinfo=UTC) == requested
    assert row.expires_at.replace(tzinfo=UTC) == requested + timedelta(seconds=600)


async def test_forty_concurrent_identical_requests_during_a_slow_handover_send_once(
    stack: Stack, tenant: Tenant
) -> None:
    """Each repeat waits for the handover as an update in flight: four times Temporal's
    default limit of 10 per run (`history.maxInFlightUpdates`), which the server raises."""
    order = sms_order("+4799990012")  # the simulator takes 2 s to accept it

    responses = await asyncio.gather(
        *(stack.api.post(SMS, json=order, headers=tenant.headers) for _ in range(40))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 39 + [201]
    assert len({r.text for r in responses}) == 1
    sent = await received_for(stack.simulator, tenant.org, order["idempotencyId"])
    assert len(sent) == 1
    assert sent[0]["submissions"] == 1


async def test_repeat_after_completion_answers_from_the_store(stack: Stack, tenant: Tenant) -> None:
    order = sms_order()
    first = await stack.api.post(SMS, json=order, headers=tenant.headers)
    await completed_manifest(stack.api, tenant.headers, shipment_id(first))
    await stack.workflow(tenant.org, order["idempotencyId"]).result()

    again = await stack.api.post(SMS, json=order, headers=tenant.headers)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert len(await received_for(stack.simulator, tenant.org, order["idempotencyId"])) == 1


async def test_key_is_honoured_after_retention_deleted_the_workflow(
    stack: Stack, tenant: Tenant
) -> None:
    """Retention deletes closed workflows; the shipment row still refuses a second send."""
    order = sms_order()
    first = await stack.api.post(SMS, json=order, headers=tenant.headers)
    await completed_manifest(stack.api, tenant.headers, shipment_id(first))
    handle = stack.workflow(tenant.org, order["idempotencyId"])
    await handle.result()
    await delete_workflow(stack, handle.id)

    again = await stack.api.post(SMS, json=order, headers=tenant.headers)
    later = await stack.api.post(SMS, json=order, headers=tenant.headers)

    assert (again.status_code, later.status_code) == (200, 200)
    assert again.json() == later.json() == first.json()
    sent = await received_for(stack.simulator, tenant.org, order["idempotencyId"])
    assert [m["submissions"] for m in sent] == [1]
    row = shipment_row(stack.engine, tenant.org, order["idempotencyId"])
    assert row is not None
    assert (row.id, row.status) == (shipment_id(first), "SMS_Delivered")


async def delete_workflow(stack: Stack, workflow: str) -> None:
    """What namespace retention does to a closed workflow once its retention period is over."""
    await stack.client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=stack.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow),
        )
    )

    async def gone() -> bool | None:
        try:
            await stack.client.get_workflow_handle(workflow).describe()
        except RPCError as err:
            return err.status == RPCStatusCode.NOT_FOUND or None
        return None

    assert await eventually(gone)


async def test_content_is_not_compared_by_default(stack: Stack, tenant: Tenant) -> None:
    key = new_key()
    first = await stack.api.post(SMS, json=sms_order(key=key), headers=tenant.headers)

    other = await stack.api.post(EMAIL, json=email_order(key=key), headers=tenant.headers)

    assert other.status_code == 200
    assert other.json() == first.json()
    sent = await received_for(stack.simulator, tenant.org, key)
    assert [m["channel"] for m in sent] == ["SMS"]


async def test_tenants_never_share_keys(stack: Stack, tenant: Tenant) -> None:
    other = stack.headers(f"{tenant.org}x")
    order = sms_order()

    mine = await stack.api.post(SMS, json=order, headers=tenant.headers)
    theirs = await stack.api.post(SMS, json=order, headers=other)

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert shipment_id(mine) != shipment_id(theirs)
    cross = await stack.api.get(mine.headers["location"], headers=other)
    assert cross.status_code == 404


async def test_email_is_handed_over_by_smtp(stack: Stack, tenant: Tenant) -> None:
    order = email_order(subject="Login code", body="<b>123456</b>")
    order["recipientEmail"]["emailSettings"]["contentType"] = "Html"
    order["recipientEmail"]["emailSettings"]["senderEmailAddress"] = "login@service.example.no"

    response = await stack.api.post(EMAIL, json=order, headers=tenant.headers)

    assert response.status_code == 201
    sent = await received_for(stack.simulator, tenant.org, order["idempotencyId"])
    assert len(sent) == 1
    assert sent[0]["channel"] == "Email"
    assert sent[0]["subject"] == "Login code"
    assert sent[0]["sender"] == "login@service.example.no"
    assert sent[0]["body"].strip() == "<b>123456</b>"
    manifest = await stack.api.get(response.headers["location"], headers=tenant.headers)
    assert recipient_status(manifest.json()) in ("Email_Succeeded", "Email_Delivered")


async def test_deprecated_route_sends_sms(stack: Stack, tenant: Tenant) -> None:
    phone = random_phone()
    order: dict[str, Any] = {
        "idempotencyId": new_key(),
        "recipient": {
            "recipientSms": {
                "phoneNumber": phone,
                "timeToLiveInSeconds": 120,
                "smsSettings": {"body": "Code 42", "sender": "Bank"},
            }
        },
    }

    response = await stack.api.post(DEPRECATED, json=order, headers=tenant.headers)

    assert response.status_code == 201
    sent = await received_for(stack.simulator, tenant.org, order["idempotencyId"])
    assert [(m["to"], m["sender"], m["body"]) for m in sent] == [(phone, "Bank", "Code 42")]


async def test_deprecated_and_new_routes_share_one_key_space(stack: Stack, tenant: Tenant) -> None:
    order = sms_order()
    first = await stack.api.post(SMS, json=order, headers=tenant.headers)

    again = await stack.api.post(DEPRECATED, json=deprecated_order(order), headers=tenant.headers)

    assert again.status_code == 200
    assert again.json() == first.json()


async def test_reject_mode_answers_422_for_different_content(stack: Stack, tenant: Tenant) -> None:
    settings = stack.settings.model_copy(update={"idempotency_mismatch": "reject"})
    order = sms_order()
    changed = {**order, "sendersReference": "changed"}
    async with api_for(settings, stack.connection) as strict:
        first = await strict.post(SMS, json=order, headers=tenant.headers)
        same = await strict.post(SMS, json=order, headers=tenant.headers)
        different = await strict.post(SMS, json=changed, headers=tenant.headers)

    assert (first.status_code, same.status_code) == (201, 200)
    assert_problem(different, 422)
    assert len(await received_for(stack.simulator, tenant.org, order["idempotencyId"])) == 1


async def test_repeats_past_the_engines_update_limit_are_answered_from_the_row(
    stack: Stack, tenant: Tenant
) -> None:
    """Every repeat is an update of the order's run, and Temporal takes a bounded number per
    run (`history.maxTotalUpdates`, 2 000; 3 here): past it, the row answers the repeats."""
    limited = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
        dev_server_extra_args=["--dynamic-config-value=history.maxTotalUpdates=3"],
    )
    settings = stack.settings.model_copy(
        update={"api_port": free_port(), "temporal_task_queue": f"limit-{uuid.uuid4().hex[:8]}"}
    )
    connection = plain_connection(limited.client.service_client.config.target_host)
    order = sms_order("+4799990008", ttl=600)  # the silent recipient: the order stays open
    try:
        async with api_and_worker(settings, stack.engine, connection) as api:
            answers = [await api.post(SMS, json=order, headers=tenant.headers) for _ in range(6)]
    finally:
        await limited.shutdown()

    assert [a.status_code for a in answers] == [201] + [200] * 5
    assert len({shipment_id(a) for a in answers}) == 1
