"""Record workflow histories of real orders for the replay test: `make histories`.

Starts a throwaway stack on free ports (Temporal dev server in memory, the simulator, a worker
and the API, all as processes), places one order per scenario through the API, and writes each
finished workflow's history to tests/workflows/histories/<scenario>.json.

Record again only after a deliberate change of the workflow that is guarded by
`workflow.patched`, and keep the old files beside the new ones (under a new name) for as long
as workflows started by the old code may still be running or be replayed.
"""

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
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHistory

from core.logs import configure_logging
from devstack.scratch import scratch_settings, scratch_stack
from devstack.token import auth_headers
from domain.ids import workflow_id

log = logging.getLogger("record_histories")

HISTORIES = Path(__file__).resolve().parent.parent / "tests" / "workflows" / "histories"
ORG = "histories"
API = "/notifications/api/v1/future/orders/instant"


@dataclass(frozen=True)
class Scenario:
    route: str
    recipient: dict[str, Any]
    answer: int
    # A check of the recorded history: the scenario happened as intended.
    shows: Callable[[WorkflowHistory], bool] = lambda _history: True


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
    kind = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    return sum(1 for event in history.events if event.event_type == kind)


SCENARIOS = {
    "sms_delivered": Scenario("/sms", sms("+4791234567"), 201, lambda h: signals(h) == 1),
    "email_delivered": Scenario("/email", email("kari@example.no"), 201),
    "sms_refused_recipient": Scenario("/sms", sms("+4799990001"), 201),
    "sms_handover_failed": Scenario("/sms", sms("+4799990009"), 503),
    # The shortest TTL the API takes; no report ever comes, so the timer decides.
    "sms_ttl_expired": Scenario("/sms", sms("+4799990008", ttl=60), 201),
    # Delivered, then a contradicting report: both reach the running workflow.
    "sms_late_reports": Scenario("/sms", sms("+4799990011"), 201, lambda h: signals(h) >= 2),
}


async def record(name: str, scenario: Scenario, client: Client, api: httpx.AsyncClient) -> None:
    body = {"idempotencyId": name, **scenario.recipient}
    answer = await api.post(API + scenario.route, json=body)
    if answer.status_code != scenario.answer:
        raise RuntimeError(f"{name}: expected {scenario.answer}, got {answer.status_code}")
    handle = client.get_workflow_handle(workflow_id(ORG, name))
    # The failed handover ends its workflow failed: that is the scenario.
    with contextlib.suppress(WorkflowFailureError):
        await handle.result()
    history = await handle.fetch_history()
    if not scenario.shows(history):
        raise RuntimeError(f"{name}: the history does not show the scenario; record again")
    document = {"workflowId": handle.id, "history": json.loads(history.to_json())}
    (HISTORIES / f"{name}.json").write_text(json.dumps(document, indent=1) + "\n")
    log.warning("recorded %s: %d events", name, len(history.events))


async def main() -> int:
    configure_logging("WARNING")
    HISTORIES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        settings = scratch_settings(
            Path(data),
            handover_deadline_seconds=3.0,
            gateway_timeout_seconds=1.0,
            ttl_grace_seconds=0,
        )
        # Reports come 10 ms after the handover, so both of the late scenario's reports
        # reach the workflow before it closes.
        reports = {"SIMULATOR_REPORT_DELAY_SECONDS": "0.01"}
        async with scratch_stack(settings, simulator_env=reports) as client:
            base = settings.api_url
            headers = auth_headers(settings, ORG)
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as api:
                await asyncio.gather(
                    *(record(name, s, client, api) for name, s in SCENARIOS.items())
                )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
