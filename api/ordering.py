"""Placing an order: Update-with-Start on the order's workflow, and the answers it can give."""

import asyncio
import json
import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.handover_answers import ANSWERS
from api.problems import Problem, unavailable
from core.codec import parse_keyring
from core.config import Settings
from core.fingerprints import Fingerprints
from core.payloads import read_as
from domain.failures import FailureKind, HandoverFailure
from domain.ids import workflow_id
from domain.orders import (
    REPEAT_ANSWERED,
    EmailMessage,
    HandoverAnswer,
    HandoverRequest,
    NotificationInput,
    SmsMessage,
    Timing,
)
from domain.statuses import ShipmentStatus
from store import shipments
from store.models import Shipment
from workflows import search_attributes
from workflows.instant_notification import InstantNotificationWorkflow

log = logging.getLogger(__name__)
# Neither answer says the message was not sent (it may still be, or the engine may have taken
# the order and only its answer was lost): a new key could send a second one.
_SAME_KEY = (
    "The message may yet be sent: retry with the same idempotencyId to learn what became of it;"
    " a new idempotencyId could send it twice."
)


@dataclass(frozen=True)
class OrderContent:
    idempotency_id: str
    senders_reference: str | None = None
    sms: SmsMessage | None = None
    email: EmailMessage | None = None
    ttl_seconds: int | None = None

    def canonical(self) -> bytes:
        """The content a fingerprint is made of: everything but the key."""
        content = {k: v for k, v in asdict(self).items() if k != "idempotency_id"}
        return json.dumps(content, sort_keys=True).encode()


# The row's status while its handover is undecided, or ended unconfirmed.
_UNDECIDED = frozenset({ShipmentStatus.SMS_SENDING, ShipmentStatus.EMAIL_SENDING})


class OrderService:
    def __init__(self, client: Client, engine: Engine, settings: Settings) -> None:
        self._client = client
        self._engine = engine
        self._settings = settings
        self._fingerprints = Fingerprints(parse_keyring(settings.payload_encryption_key))

    async def place(self, org: str, content: OrderContent) -> HandoverAnswer:
        shipment_id = str(uuid.uuid4())
        order = self._workflow_input(org, content, shipment_id)
        start = WithStartWorkflowOperation(
            InstantNotificationWorkflow.run,
            order,
            id=workflow_id(org, content.idempotency_id),
            task_queue=self._settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            task_timeout=timedelta(seconds=self._settings.workflow_task_timeout_seconds),
            search_attributes=TypedSearchAttributes(search_attributes.at_start(order, shipment_id)),
        )
        try:
            async with asyncio.timeout(self._settings.budget.deadline_seconds):
                answer: HandoverAnswer = await self._client.execute_update_with_start_workflow(
                    InstantNotificationWorkflow.handover,
                    HandoverRequest(request_id=order.request_id, answer_in_rejection=True),
                    start_workflow_operation=start,
                    id=order.request_id,
                )
        except WorkflowAlreadyStartedError:
            # The workflow completed: its row answers, and the engine refused a second send.
            answer = await self._from_store(org, content.idempotency_id, shipment_id)
        except WorkflowUpdateFailedError as exc:
            repeat = _repeat_answered(exc)
            answer = repeat or await self._failed(org, content.idempotency_id, shipment_id, exc)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
            raise unavailable(
                f"The handover did not complete within its deadline. {_SAME_KEY}"
            ) from exc
        except (RPCError, RuntimeError) as exc:
            # A lazy client that cannot connect raises RuntimeError rather than RPCError.
            refused = await self._answered_by_row(org, content.idempotency_id, shipment_id, exc)
            if refused is None:
                log.warning("Temporal did not take the order: %s", type(exc).__name__)
                raise unavailable(
                    f"The order could not reach the workflow engine. {_SAME_KEY}"
                ) from exc
            answer = refused
        finally:
            _settle(start)
        self._check_content(answer, content)
        return answer

    def _workflow_input(
        self, org: str, content: OrderContent, shipment_id: str
    ) -> NotificationInput:
        settings = self._settings
        budget = settings.budget
        now = datetime.now(UTC)
        return NotificationInput(
            org=org,
            idempotency_id=content.idempotency_id,
            request_id=str(uuid.uuid4()),
            fingerprint=self._fingerprints.of(content.canonical()),
            timing=Timing(
                ttl_seconds=content.ttl_seconds or settings.email_ttl_seconds,
                grace_seconds=settings.ttl_grace_seconds,
                handover_seconds=budget.workflow_seconds,
                attempt_seconds=budget.attempt_seconds,
                answer_by=now + timedelta(seconds=budget.workflow_seconds),
                webhook_attempt_seconds=settings.webhook_timeout_seconds,
                requested_at=now,
            ),
            senders_reference=content.senders_reference,
            sms=content.sms,
            email=content.email,
            order_id=str(uuid.uuid4()),
            shipment_id=shipment_id,
        )

    async def _failed(
        self, org: str, idempotency_id: str, shipment_id: str, exc: WorkflowUpdateFailedError
    ) -> HandoverAnswer:
        """The workflow failed the handover: the caller hears why, except that where retention
        deleted the key's workflow, not its row, the row answers (nothing is sent)."""
        failure = _failure(exc)
        answer_of = ANSWERS[failure.kind]
        if answer_of is not None:
            raise answer_of(failure) from exc
        return await self._from_store(org, idempotency_id, shipment_id)

    async def _from_store(self, org: str, idempotency_id: str, shipment_id: str) -> HandoverAnswer:
        row = await run_in_threadpool(self._find, org, idempotency_id)
        if row is None:
            log.error("completed workflow without a shipment row for org %s", org)
            raise unavailable("The order's record is not available.")
        return _from_row(row, shipment_id)

    async def _answered_by_row(
        self, org: str, idempotency_id: str, shipment_id: str, exc: Exception
    ) -> HandoverAnswer | None:
        """The engine did not take the update, though a run may have decided the handover:
        - it refused it (FAILED_PRECONDITION): past the updates it takes per run
          (`history.maxTotalUpdates`, 2 000; every repeat is one), or when the task that
          answered was refused (a report came in while the run completed in its first task)
          and the run went on without the update;
        - it cannot be reached (UNAVAILABLE; a lazy client that cannot connect raises
          RuntimeError): a repeat of an order decided before is still answered.
        The row then answers, if the handover is decided; one still sending (or unconfirmed)
        is no answer: None."""
        status = exc.status if isinstance(exc, RPCError) else RPCStatusCode.UNAVAILABLE
        if status not in (RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.UNAVAILABLE):
            return None
        row = await run_in_threadpool(self._find, org, idempotency_id)
        if row is None or row.status in _UNDECIDED:
            return None
        return _from_row(row, shipment_id)

    def _find(self, org: str, idempotency_id: str) -> Shipment | None:
        with Session(self._engine) as session:
            return shipments.find_by_key(session, org, idempotency_id)

    def _check_content(self, answer: HandoverAnswer, content: OrderContent) -> None:
        if (
            not answer.created
            and self._settings.idempotency_mismatch == "reject"
            and self._fingerprints.differ(answer.fingerprint, content.canonical())
        ):
            raise Problem(
                422,
                "Idempotency key reused with different content",
                "An order with this idempotencyId exists and its content differs.",
            )


def _from_row(row: Shipment, shipment_id: str) -> HandoverAnswer:
    """The row's answer; created when the row is the one this request's own run wrote."""
    return HandoverAnswer(
        created=row.id == shipment_id,
        notification_order_id=row.order_id,
        shipment_id=row.id,
        fingerprint=row.fingerprint,
        senders_reference=row.senders_reference,
    )


def _repeat_answered(exc: WorkflowUpdateFailedError) -> HandoverAnswer | None:
    """The answer to a repeat of a decided handover, which the workflow gives in the update's
    rejection (kept out of its history)."""
    cause = exc.cause
    if not isinstance(cause, ApplicationError) or cause.type != REPEAT_ANSWERED:
        return None
    return read_as(HandoverAnswer, cause.details[0])


def _failure(exc: WorkflowUpdateFailedError) -> HandoverFailure:
    """Why the workflow failed the handover, from the error that ended it."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        return HandoverFailure.of(cause.type, cause.details, cause.message)
    return HandoverFailure(FailureKind.UNEXPECTED, str(cause))


def _settle(start: WithStartWorkflowOperation[Any, Any]) -> None:
    """Read the start's own outcome, which the SDK leaves unread when the start fails.

    Without this, every repeat after completion logs "Future exception was never retrieved".
    """
    outcome = start._workflow_handle  # no public accessor that does not block
    if outcome.done() and not outcome.cancelled():
        outcome.exception()
