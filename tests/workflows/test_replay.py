"""Histories recorded from real orders replay against the current workflow code.

A change to InstantNotificationWorkflow or WebhookRetryWorkflow that running workflows cannot
survive (a command added, removed or reordered without `workflow.patched`) fails here before
it reaches a worker.
They replay through the worker's own data converter, which reads what older code wrote.
`make histories` records them (scripts/record_histories.py); docs/operations.md says when.
"""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from core.config import Settings
from core.temporal import data_converter
from tests.workflows.changed_workflows import (
    PatchedChangeWorkflow,
    UnguardedChangeWorkflow,
    UnguardedRetryChangeWorkflow,
)
from workflows.instant_notification import InstantNotificationWorkflow
from workflows.webhook_event import WebhookEventWorkflow, WebhookRetryWorkflow

HISTORIES = Path(__file__).parent / "histories"
SCENARIOS = (
    "sms_delivered",
    "email_delivered",
    "sms_refused_recipient",
    "sms_handover_failed",
    "sms_handover_unconfirmed",
    "sms_ttl_expired",
    "sms_late_reports",
    "sms_delivered_webhooks",
    "sms_webhook_retried",
    "sms_webhook_retried_retry",
    "sms_webhook_gone_on_retry",
    "sms_webhook_gone_on_retry_retry",
)
# The workflows beside the order's that the recordings hold.
WEBHOOK_WORKFLOWS = [WebhookRetryWorkflow, WebhookEventWorkflow]


def load(path: Path) -> WorkflowHistory:
    document = json.loads(path.read_text())
    return WorkflowHistory.from_json(document["workflowId"], document["history"])


def recorded() -> list[Path]:
    """The current recordings, and older ones kept in subfolders while their code may run."""
    return sorted(HISTORIES.rglob("*.json"))


def name(path: Path) -> str:
    return str(path.relative_to(HISTORIES).with_suffix(""))


def test_every_scenario_has_a_current_recording() -> None:
    assert {path.stem for path in HISTORIES.glob("*.json")} >= set(SCENARIOS)


@pytest.mark.parametrize("path", recorded(), ids=name)
async def test_recorded_history_replays_on_the_current_code(path: Path) -> None:
    replayer = Replayer(
        workflows=[InstantNotificationWorkflow, *WEBHOOK_WORKFLOWS],
        data_converter=data_converter(Settings(payload_encryption_key="")),
    )

    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)

    assert result.replay_failure is None


async def test_an_unguarded_change_is_caught() -> None:
    replayer = Replayer(workflows=[UnguardedChangeWorkflow])

    result = await replayer.replay_workflow(
        load(HISTORIES / "sms_delivered.json"), raise_on_replay_failure=False
    )

    assert isinstance(result.replay_failure, NondeterminismError)


async def test_an_unguarded_change_of_the_webhook_retry_is_caught() -> None:
    replayer = Replayer(workflows=[UnguardedRetryChangeWorkflow])

    result = await replayer.replay_workflow(
        load(HISTORIES / "sms_webhook_retried_retry.json"), raise_on_replay_failure=False
    )

    assert isinstance(result.replay_failure, NondeterminismError)


@pytest.mark.parametrize("path", recorded(), ids=name)
async def test_the_same_change_behind_a_patch_replays(path: Path) -> None:
    replayer = Replayer(workflows=[PatchedChangeWorkflow, *WEBHOOK_WORKFLOWS])

    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)

    assert result.replay_failure is None
