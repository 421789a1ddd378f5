"""Workflow inputs and starts for the tests that drive InstantNotificationWorkflow directly."""

import uuid

from temporalio.client import Client, WorkflowHandle

from domain.ids import workflow_id
from domain.orders import EmailMessage, NotificationInput, NotificationResult, SmsMessage, Timing
from tests.support.bodies import new_key
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
    """An order of `org` for one phone number or one email address, with a fresh key."""
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
    )


def id_of(data: NotificationInput) -> str:
    return workflow_id(data.org, data.idempotency_id)


async def start_notification(client: Client, task_queue: str, data: NotificationInput) -> Handle:
    return await client.start_workflow(
        InstantNotificationWorkflow.run, data, id=id_of(data), task_queue=task_queue
    )
