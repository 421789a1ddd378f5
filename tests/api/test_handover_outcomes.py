"""Every handover outcome of the simulator's magic table, through the public API."""

import re
import time

import pytest
from temporalio.client import WorkflowExecutionStatus

from tests.support.answers import assert_problem, recipient_status
from tests.support.bodies import email_order, new_key, random_phone, sms_order
from tests.support.routes import EMAIL, SMS
from tests.support.simulator import received_for
from tests.support.stack import Stack, Tenant
from tests.support.store import history, shipment_row

ACCEPTED_SMS = [
    "+4799990002",
    "+4799990003",
    "+4799990004",
    "+4799990005",
    "+4799990006",
    "+4799990007",
    "+4799990008",
    "+4799990010",
    "+4799990011",
]
ACCEPTED_EMAIL = [
    "failed",
    "bounced",
    "suppressed",
    "spam",
    "quarantined",
    "silent",
    "duplicate",
    "flip",
]


def on_both_channels(phone: str, local: str) -> pytest.MarkDecorator:
    """The test with an SMS order to `phone` and with an email order to `local`@example.no."""
    return pytest.mark.parametrize(
        ("route", "order"),
        [(SMS, sms_order(phone)), (EMAIL, email_order(f"{local}@example.no"))],
        ids=["sms", "email"],
    )


def refusal_detail(stack: Stack, shipment_id: str) -> str:
    """What the gateway said with its refusal, as the shipment's history keeps it."""
    handover = [event for event in history(stack.engine, shipment_id) if event.kind == "handover"]
    assert len(handover) == 1
    assert handover[0].detail
    return handover[0].detail


@pytest.mark.parametrize("phone", ACCEPTED_SMS)
async def test_sms_accepted_by_the_gateway(stack: Stack, tenant: Tenant, phone: str) -> None:
    response = await stack.api.post(SMS, json=sms_order(phone), headers=tenant.headers)

    assert response.status_code == 201
    manifest = (await stack.api.get(response.headers["location"], headers=tenant.headers)).json()
    assert recipient_status(manifest) != "SMS_Sending"


@pytest.mark.parametrize("local", ACCEPTED_EMAIL)
async def test_email_accepted_by_the_server(stack: Stack, tenant: Tenant, local: str) -> None:
    order = email_order(f"{local}@example.no")

    response = await stack.api.post(EMAIL, json=order, headers=tenant.headers)

    assert response.status_code == 201


async def test_refused_sms_recipient_is_201_with_a_failed_status(
    stack: Stack, tenant: Tenant
) -> None:
    response = await stack.api.post(SMS, json=sms_order("+4799990001"), headers=tenant.headers)

    assert response.status_code == 201
    manifest = (await stack.api.get(response.headers["location"], headers=tenant.headers)).json()
    assert manifest["status"] == "Order_Completed"
    assert recipient_status(manifest) == "SMS_Failed_InvalidRecipient"
    assert "invalid" in refusal_detail(stack, manifest["shipmentId"]).lower()


async def test_refused_email_recipient_is_201_with_a_failed_status(
    stack: Stack, tenant: Tenant
) -> None:
    order = email_order("invalid@example.no")

    response = await stack.api.post(EMAIL, json=order, headers=tenant.headers)

    assert response.status_code == 201
    manifest = (await stack.api.get(response.headers["location"], headers=tenant.headers)).json()
    assert recipient_status(manifest) == "Email_Failed_InvalidFormat"
    assert refusal_detail(stack, manifest["shipmentId"]).startswith("5")  # the SMTP reply


@on_both_channels("+4799990009", "unavailable")
async def test_unavailable_gateway_is_503_and_nothing_is_kept(
    stack: Stack, tenant: Tenant, route: str, order: dict[str, object]
) -> None:
    key = new_key()
    order = {**order, "idempotencyId": key}

    response = await stack.api.post(route, json=order, headers=tenant.headers)

    problem = assert_problem(response, 503)
    assert problem["code"] == "NOT-00004"
    assert problem["type"] == "urn:altinn:error:NOT-00004"
    assert shipment_row(stack.engine, tenant.org, key) is None
    description = await stack.workflow(tenant.org, key).describe()
    assert description.status == WorkflowExecutionStatus.FAILED


async def test_retry_after_503_hands_over_again(stack: Stack, tenant: Tenant) -> None:
    key = new_key()
    failed = await stack.api.post(
        SMS, json=sms_order("+4799990009", key=key), headers=tenant.headers
    )
    phone = random_phone()

    retried = await stack.api.post(SMS, json=sms_order(phone, key=key), headers=tenant.headers)

    assert failed.status_code == 503
    assert retried.status_code == 201
    sent = await received_for(stack.simulator, tenant.org, key)
    assert [m["to"] for m in sent] == [phone]


@on_both_channels("+4799990013", "hang")
async def test_gateway_that_never_answers_is_503_within_the_deadline(
    stack: Stack, tenant: Tenant, route: str, order: dict[str, object]
) -> None:
    order = {**order, "idempotencyId": new_key()}
    started = time.monotonic()

    response = await stack.api.post(route, json=order, headers=tenant.headers)

    assert response.status_code == 503
    assert response.json()["code"] == "NOT-00004"
    # Whether the workflow or the API's own deadline answered, it claims nothing was not sent.
    assert re.search(r"may (have been|yet be) sent", response.json()["detail"])
    assert time.monotonic() - started <= stack.settings.handover_deadline_seconds + 1


@on_both_channels("+4799990012", "slow")
async def test_slow_gateway_still_answers_201(
    stack: Stack, tenant: Tenant, route: str, order: dict[str, object]
) -> None:
    order = {**order, "idempotencyId": new_key()}

    response = await stack.api.post(route, json=order, headers=tenant.headers)

    assert response.status_code == 201
