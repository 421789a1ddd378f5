"""Placing an order: Update-with-Start on the order's workflow, and the answers it can give."""

import asyncio
import hashlib
import json
import logging
import math
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
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.handover import HANDOVER_AMBIGUOUS
from activities.records import KEY_ALREADY_USED, RATE_LIMITED
from api.problems import Problem
from core.config import Settings
from core.metrics import count_rate_limited
from domain.ids import workflow_id
from domain.orders import (
    EmailMessage,
    HandoverAnswer,
    HandoverRequest,
    NotificationInput,
    SmsMessage,
    Timing,
)
from store import shipments
from store.models import Shipment
from workflows.instant_notification import HANDOVER_FAILED, InstantNotificationWorkflow

log = logging.getLogger(__name__)

# The workflow must give up on the gateway before the API gives up on the workflow.
_DECISION_MARGIN_SECONDS = 1.0


@dataclass(frozen=True)
class OrderContent:
    idempotency_id: str
    senders_reference: str | None = None
    sms: SmsMessage | None = None
    email: EmailMessage | None = None
    ttl_seconds: int | None = None

    def fingerprint(self) -> str:
        content = {k: v for k, v in asdict(self).items() if k != "idempotency_id"}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def rate_limited(scope: str, retry_after: float) -> Problem:
    log.warning("order refused by the %s rate limit", scope)
    count_rate_limited(scope)
    return Problem(
        429,
        "Too Many Requests",
        f"Too many orders for this {scope}; nothing was sent. Retry after the given time.",
        headers={"Retry-After": str(max(math.ceil(retry_after), 1))},
    )


def unavailable(detail: str) -> Problem:
    return Problem(
        503,
        "A temporary network failure occurred",
        detail,
        code="NOT-00004",
        headers={"Retry-After": "2"},
    )


class OrderService:
    def __init__(self, client: Client, engine: Engine, settings: Settings) -> None:
        self._client = client
        self._engine = engine
        self._settings = settings

    async def place(self, org: str, content: OrderContent) -> HandoverAnswer:
        order = self._workflow_input(org, content)
        start = WithStartWorkflowOperation(
            InstantNotificationWorkflow.run,
            order,
            id=workflow_id(org, content.idempotency_id),
            task_queue=self._settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            task_timeout=timedelta(seconds=self._settings.workflow_task_timeout_seconds),
        )
        try:
            async with asyncio.timeout(self._settings.handover_deadline_seconds):
                answer: HandoverAnswer = await self._client.execute_update_with_start_workflow(
                    InstantNotificationWorkflow.handover,
                    HandoverRequest(request_id=order.request_id),
                    start_workflow_operation=start,
                    id=order.request_id,
                )
        except WorkflowAlreadyStartedError:
            # The workflow completed: its row answers, and the engine refused a second send.
            answer = await self._from_store(org, content.idempotency_id)
        except WorkflowUpdateFailedError as exc:
            if _failure_reason(exc) != KEY_ALREADY_USED:
                raise self._update_failed(exc) from exc
            # Retention deleted the key's workflow, not its row: the row answers, nothing is sent.
            answer = await self._from_store(org, content.idempotency_id)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
            raise unavailable("The handover did not complete within its deadline.") from exc
        except (RPCError, RuntimeError) as exc:
            # A lazy client that cannot connect raises RuntimeError rather than RPCError.
            log.warning("Temporal did not take the order: %s", type(exc).__name__)
            raise unavailable("The order could not reach the workflow engine.") from exc
        finally:
            _settle(start)
        self._check_content(answer, order)
        return answer

    def _workflow_input(self, org: str, content: OrderContent) -> NotificationInput:
        settings = self._settings
        handover_seconds = settings.handover_deadline_seconds - _DECISION_MARGIN_SECONDS
        return NotificationInput(
            org=org,
            idempotency_id=content.idempotency_id,
            request_id=str(uuid.uuid4()),
            fingerprint=content.fingerprint(),
            timing=Timing(
                ttl_seconds=content.ttl_seconds or settings.email_ttl_seconds,
                grace_seconds=settings.ttl_grace_seconds,
                handover_seconds=handover_seconds,
                attempt_seconds=settings.gateway_timeout_seconds + 0.5,
                answer_by=datetime.now(UTC) + timedelta(seconds=handover_seconds),
            ),
            senders_reference=content.senders_reference,
            sms=content.sms,
            email=content.email,
        )

    def _update_failed(self, exc: WorkflowUpdateFailedError) -> Problem:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == HANDOVER_FAILED:
            if cause.details and cause.details[0] == RATE_LIMITED:
                return rate_limited(str(cause.details[1]), float(cause.details[2]))
            if cause.details and cause.details[0] == HANDOVER_AMBIGUOUS:
                return unavailable(
                    "The gateway did not confirm the handover; the message may have been sent."
                )
            return unavailable("The gateway did not accept the message; nothing was sent.")
        log.error("handover update failed unexpectedly: %s", cause)
        return unavailable("The order could not be completed; nothing was sent.")

    async def _from_store(self, org: str, idempotency_id: str) -> HandoverAnswer:
        row = await run_in_threadpool(self._find, org, idempotency_id)
        if row is None:
            log.error("completed workflow without a shipment row for org %s", org)
            raise unavailable("The order's record is not available.")
        return HandoverAnswer(
            created=False,
            notification_order_id=row.order_id,
            shipment_id=row.id,
            fingerprint=row.fingerprint,
            senders_reference=row.senders_reference,
        )

    def _find(self, org: str, idempotency_id: str) -> Shipment | None:
        with Session(self._engine) as session:
            return shipments.find_by_key(session, org, idempotency_id)

    def _check_content(self, answer: HandoverAnswer, order: NotificationInput) -> None:
        if (
            not answer.created
            and self._settings.idempotency_mismatch == "reject"
            and answer.fingerprint != order.fingerprint
        ):
            raise Problem(
                422,
                "Idempotency key reused with different content",
                "An order with this idempotencyId exists and its content differs.",
            )


def _failure_reason(exc: WorkflowUpdateFailedError) -> object:
    """Why the workflow failed the handover: the `type` of the error that ended it."""
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type == HANDOVER_FAILED and cause.details:
        return cause.details[0]
    return None


def _settle(start: WithStartWorkflowOperation[Any, Any]) -> None:
    """Read the start's own outcome, which the SDK leaves unread when the start fails.

    Without this, every repeat after completion logs "Future exception was never retrieved".
    """
    outcome = start._workflow_handle  # no public accessor that does not block
    if outcome.done() and not outcome.cancelled():
        outcome.exception()
