"""Record workflow histories of real orders for the replay test: `make histories`.

Starts a throwaway stack on free ports (Temporal dev server in memory, the simulator, a worker
and the API, all as processes), places one order per scenario through the API, and writes each
finished workflow's history to tests/workflows/histories/<scenario>.json; where the tenant's
webhook receiver is the recorder's own, also the history of the delivery it made retried, as
<scenario>_retry.json (WebhookRetryWorkflow runs for up to a day: deploys meet it running).

Record again only after a deliberate change of the workflow that is guarded (by
`workflow.patched`, or by what the history itself holds, as the search attributes a start
carries), and keep the old files beside the new ones (in a subfolder named for what they
still show) for as long as workflows started by the old code may still be running or be
replayed.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowFailureError, WorkflowHistory

from core.config import Settings
from core.logs import configure_logging
from devstack.scratch import scratch_connection, scratch_settings, scratch_stack
from devstack.token import auth_headers
from domain.ids import workflow_id
from tests.support.serving import serving

log = logging.getLogger("record_histories")

HISTORIES = Path(__file__).resolve().parent.parent / "tests" / "workflows" / "histories"
ORG = "histories"
API = "/notifications/api/v1/future/orders/instant"
WEBHOOKS = "/notifications/api/v1/future/webhooks"


@dataclass(frozen=True)
class Scenario:
    route: str
    recipient: dict[str, Any]
    answer: int
    # A check of the recorded history: the scenario happened as intended.
    shows: Callable[[WorkflowHistory], bool] = lambda _history: True
    # The tenant has a webhook subscription (the simulator's receiver) before the order.
    subscribed: bool = False
    # The tenant's webhook receiver is one of the recorder's, answering these statuses in
    # turn (the last repeats); each delivery it makes retried is recorded as `<name>_retry`.
    answers: tuple[int, ...] = ()

    def org(self, name: str) -> str:
        """A tenant per scenario with a receiver of its own, which no other order reaches."""
        if self.answers:
            return f"{ORG}-{name}".replace("_", "-")
        return f"{ORG}-webhooks" if self.subscribed else ORG


def sms(number: str, ttl: int = 300) -> dict[str, Any]:
    return {
        "recipientSms": {
            "phoneNumber": number,
            "timeToLiveInSeconds": ttl,
            "smsSettings": {"body": "Your code is 123456"},
        }
    }


def email(address: str) -> dict[str, Any]:
    settings = {"subject": "Your code", "body": "Your code is 123456"}
    return {"recipientEmail": {"emailAddress": address, "emailSettings": settings}}


def signals(history: WorkflowHistory) -> int:
    return count(history, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)


def count(
    history: WorkflowHistory,
    kind: EventType.ValueType,
    where: Callable[[HistoryEvent], bool] = lambda _event: True,
) -> int:
    return sum(1 for event in history.events if event.event_type == kind and where(event))


def patches(history: WorkflowHistory) -> int:
    """Markers of `workflow.patched` (local activities record markers too, named otherwise)."""
    return count(
        history,
        EventType.EVENT_TYPE_MARKER_RECORDED,
        lambda event: event.marker_recorded_event_attributes.marker_name == "core_patch",
    )


def retry_children(history: WorkflowHistory) -> list[str]:
    """The IDs of the child workflows that retry the order's webhook deliveries."""
    return [
        event.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
    ]


def first_attempts(history: WorkflowHistory) -> int:
    """Webhook events whose first attempts the workflow made itself, none retried."""
    if count(history, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED):
        return 0
    return count(history, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)


SCENARIOS = {
    "sms_delivered": Scenario("/sms", sms("+4791234567"), 201, lambda h: signals(h) == 1),
    "email_delivered": Scenario("/email", email("kari@example.no"), 201),
    "sms_refused_recipient": Scenario("/sms", sms("+4799990001"), 201),
    "sms_handover_failed": Scenario("/sms", sms("+4799990009"), 503),
    # The provider never answers, so the message may have left: 503, but the order keeps its
    # key and waits for a report as a handed-over one, here until its TTL.
    "sms_handover_unconfirmed": Scenario(
        "/sms", sms("+4799990013", ttl=60), 503, lambda h: patches(h) == 1
    ),
    # The shortest TTL the API takes; no report ever comes, so the timer decides.
    "sms_ttl_expired": Scenario("/sms", sms("+4799990008", ttl=60), 201),
    # Delivered, then a contradicting report: both reach the running workflow.
    "sms_late_reports": Scenario("/sms", sms("+4799990011"), 201, lambda h: signals(h) >= 2),
    # Both webhook events, accepted and completed, delivered at the first attempt.
    "sms_delivered_webhooks": Scenario(
        "/sms", sms("+4791234567"), 201, lambda h: first_attempts(h) == 2, subscribed=True
    ),
    # The first attempt of one event fails (503); its retry, a second later, is delivered.
    "sms_webhook_retried": Scenario(
        "/sms", sms("+4791234567"), 201, lambda h: len(retry_children(h)) == 1, answers=(503, 204)
    ),
    # The first attempt fails (500); then the receiver answers 410 Gone, which disables the
    # subscription: the retry ends the delivery failed.
    "sms_webhook_gone_on_retry": Scenario(
        "/sms", sms("+4791234567"), 201, lambda h: len(retry_children(h)) == 1, answers=(500, 410)
    ),
}


class Receiver:
    """A webhook receiver answering its requests with `statuses` in turn, the last repeated."""

    def __init__(self, statuses: tuple[int, ...]) -> None:
        self._statuses = list(statuses)
        self.app = Starlette(routes=[Route("/hooks", self._receive, methods=["POST"])])

    async def _receive(self, _request: Request) -> Response:
        status = self._statuses.pop(0) if len(self._statuses) > 1 else self._statuses[0]
        return Response(status_code=status)


async def record(
    name: str, scenario: Scenario, client: Client, api: httpx.AsyncClient, settings: Settings
) -> None:
    org = scenario.org(name)
    headers = auth_headers(settings, org)
    async with contextlib.AsyncExitStack() as receiving:
        if scenario.answers:
            url = await receiving.enter_async_context(serving(Receiver(scenario.answers).app))
            await api.post(WEBHOOKS, json={"url": f"{url}/hooks"}, headers=headers)
        elif scenario.subscribed:
            hook = {"url": f"{settings.simulator.url}/webhooks"}
            await api.post(WEBHOOKS, json=hook, headers=headers)
        body = {"idempotencyId": name, **scenario.recipient}
        answer = await api.post(API + scenario.route, json=body, headers=headers)
        if answer.status_code != scenario.answer:
            raise RuntimeError(f"{name}: expected {scenario.answer}, got {answer.status_code}")
        history = await finished(client, workflow_id(org, name))
        if not scenario.shows(history):
            raise RuntimeError(f"{name}: the history does not show the scenario; record again")
        write(name, history)
        for child in retry_children(history):
            write(f"{name}_retry", await finished(client, child))


async def finished(client: Client, workflow: str) -> WorkflowHistory:
    handle = client.get_workflow_handle(workflow)
    # The failed handover ends its workflow failed: that is the scenario.
    with contextlib.suppress(WorkflowFailureError):
        await handle.result()
    return await handle.fetch_history()


def write(name: str, history: WorkflowHistory) -> None:
    document = {"workflowId": history.workflow_id, "history": json.loads(history.to_json())}
    (HISTORIES / f"{name}.json").write_text(json.dumps(document, indent=1) + "\n")
    log.warning("recorded %s: %d events", name, len(history.events))


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenarios", nargs="*", help="record only these (default: all)")
    chosen = parser.parse_args().scenarios or list(SCENARIOS)
    configure_logging("WARNING")
    HISTORIES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        settings = scratch_settings(
            Path(data),
            handover_deadline_seconds=3.0,
            gateway_timeout_seconds=1.0,
            workflow_task_timeout_seconds=2.0,
            ttl_grace_seconds=0,
            # Recorded readable: the replay test reads them without a key.
            payload_encryption_key="",
        )
        # Reports come 10 ms after the handover, so both of the late scenario's reports
        # reach the workflow before it closes.
        reports = {"SIMULATOR_REPORT_DELAY_SECONDS": "0.01"}
        async with (
            scratch_stack(settings, scratch_connection(), simulator_env=reports) as client,
            httpx.AsyncClient(base_url=settings.api_url, timeout=30) as api,
        ):
            await asyncio.gather(
                *(record(name, SCENARIOS[name], client, api, settings) for name in chosen)
            )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
