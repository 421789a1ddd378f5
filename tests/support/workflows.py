"""Workflow inputs, starts and reports for the tests that drive InstantNotificationWorkflow
directly."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.worker import Worker

from activities.handover import HandoverInput
from activities.records import ShipmentInput
from domain.ids import client_reference, workflow_id
from domain.orders import (
    Channel,
    EmailMessage,
    HandoverAnswer,
    HandoverRequest,
    NotificationInput,
    NotificationResult,
    SmsMessage,
    Timing,
)
from domain.reports import DeliveryReport
from tests.support.bodies import new_key
from tests.support.mocked_activities import MockedActivities
from workflows import search_attributes
from workflows.instant_notification import InstantNotificationWorkflow

Handle = WorkflowHandle[InstantNotificationWorkflow, NotificationResult]


def notification_input(
    org: str,
    *,
    ttl: int = 300,
    grace: int = 1,
    sms: str | None = None,
    email: str | None = None,
    body: str = "Code 1",
    senders_reference: str | None = None,
) -> NotificationInput:
    """An order of `org` for one phone number or one email address, with a fresh key and ids
    (started without its search attributes, it takes the path of inputs from before the ids
    came with it)."""
    return NotificationInput(
        org=org,
        idempotency_id=new_key(),
        request_id=str(uuid.uuid4()),
        fingerprint="f" * 64,
        timing=Timing(ttl_seconds=ttl, grace_seconds=grace, handover_seconds=5, attempt_seconds=3),
        senders_reference=senders_reference,
        sms=SmsMessage(phone_number=sms, sender="Altinn", body=body) if sms else None,
        email=(
            EmailMessage(
                address=email, sender_address="noreply@example.no", subject="Code", body=body
            )
            if email
            else None
        ),
        order_id=str(uuid.uuid4()),
        shipment_id=str(uuid.uuid4()),
    )


def id_of(data: NotificationInput) -> str:
    return workflow_id(data.org, data.idempotency_id)


async def start_notification(client: Client, task_queue: str, data: NotificationInput) -> Handle:
    return await client.start_workflow(
        InstantNotificationWorkflow.run, data, id=id_of(data), task_queue=task_queue
    )


async def place(
    client: Client, task_queue: str, data: NotificationInput
) -> tuple[HandoverAnswer, Handle]:
    """What the API does with an order: Update-with-Start with the shipment's search
    attributes, waiting for the handover."""
    identity = search_attributes.at_start(data, data.shipment_id) if data.shipment_id else []
    start = WithStartWorkflowOperation(
        InstantNotificationWorkflow.run,
        data,
        id=id_of(data),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(identity),
    )
    answer = await client.execute_update_with_start_workflow(
        InstantNotificationWorkflow.handover,
        HandoverRequest(request_id=data.request_id),
        start_workflow_operation=start,
    )
    return answer, handle_of(client, data)


def handle_of(client: Client, data: NotificationInput) -> Handle:
    return client.get_workflow_handle_for(InstantNotificationWorkflow.run, id_of(data))


def report(
    data: NotificationInput, state: str, status: str | None, number: int = 1
) -> DeliveryReport:
    """A delivery report of the order's gateway, as the report route signals it."""
    return DeliveryReport(
        reference=client_reference(id_of(data)),
        provider="simulator",
        provider_status=state,
        received_at=datetime.now(UTC),
        status=status,
        report_id=f"{state}-{number}",
    )


def with_row(data: HandoverInput, seconds: float) -> HandoverInput:
    """The input the workflow gives: the order's row is written before anything is sent."""
    now, key = datetime.now(UTC), uuid.uuid4().hex
    row = ShipmentInput(
        shipment_id=str(uuid.uuid4()),
        order_id=str(uuid.uuid4()),
        org=f"h{key[:10]}",
        idempotency_id=key,
        workflow_id=f"instant/test/{key}",
        reference=data.reference,
        fingerprint="f",
        channel=Channel.SMS if data.sms is not None else Channel.EMAIL,
        destination=data.sms.phone_number if data.sms is not None else "to@example.no",
        status="Sending",
        order_status="Order_Processed",
        created_at=now,
        expires_at=now + timedelta(seconds=60),
    )
    return replace(data, shipment=row, deadline=now + timedelta(seconds=seconds))


@asynccontextmanager
async def mocked_worker(
    client: Client, mocks: MockedActivities, task_queue: str | None = None, **options: Any
) -> AsyncIterator[str]:
    """The workflow, in the SDK's sandbox, with the mocked activities on `task_queue` (a fresh
    one when None); `options` go to the worker."""
    task_queue = task_queue or f"logic-{uuid.uuid4().hex[:10]}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[InstantNotificationWorkflow],
        activities=mocks.functions,
        **options,
    ):
        yield task_queue
