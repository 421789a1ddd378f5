"""One order's answer split into legs from the caller's clock and the workflow's history: the
legs add up to the answer time, and the time spent in each place lands in its own leg."""

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.waterfall import LEGS, Answered, median_legs, read_legs

PAUSE_MS = 300
_UNTIL_THE_ANSWER = LEGS[:-1]  # every leg but the way back to the caller


@dataclass(frozen=True)
class Pause:
    seconds: float = 0.0
    wait_for_signal: bool = False


@activity.defn
async def pause(order: Pause) -> Pause:
    await asyncio.sleep(order.seconds)
    return order


@workflow.defn
class AnsweringWorkflow:
    """Answers its update after a local activity's pause, and after a signal if told to wait."""

    def __init__(self) -> None:
        self._answered = False
        self._signalled = False

    @workflow.run
    async def run(self, order: Pause) -> Pause:
        await workflow.execute_local_activity(
            pause, order, start_to_close_timeout=timedelta(seconds=10)
        )
        if order.wait_for_signal:
            await workflow.wait_condition(lambda: self._signalled)
        self._answered = True
        return order

    @workflow.update
    async def answer(self, order: Pause) -> Pause:
        await workflow.wait_condition(lambda: self._answered)
        return order

    @workflow.signal
    def go(self, _: Pause) -> None:
        self._signalled = True


async def _order(client: Client, queue: str, order: Pause, signal_after: float = 0.0) -> Answered:
    workflow_id = f"waterfall-{uuid.uuid4()}"
    start = WithStartWorkflowOperation(
        AnsweringWorkflow.run,
        order,
        id=workflow_id,
        task_queue=queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )

    async def signal_later() -> None:
        await asyncio.sleep(signal_after)
        await client.get_workflow_handle(workflow_id).signal(AnsweringWorkflow.go, Pause())

    sent = time.time()
    signalled = asyncio.create_task(signal_later()) if order.wait_for_signal else None
    await client.execute_update_with_start_workflow(
        AnsweringWorkflow.answer, order, start_workflow_operation=start
    )
    answered = Answered(workflow_id, sent, time.time())
    if signalled is not None:
        await signalled
    return answered


def _worker(client: Client, queue: str) -> Worker:
    return Worker(
        client,
        task_queue=queue,
        workflows=[AnsweringWorkflow],
        activities=[pause],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )


@pytest.mark.parametrize(
    ("order", "signal_after", "holding"),
    [
        # A local activity's pause, inside the first task, which answers.
        (Pause(seconds=PAUSE_MS / 1000), 0.0, ("workflow tasks",)),
        # The update completes in the task the signal brings, not in the first one. The signal
        # leaves PAUSE_MS after the caller's request (its clock, not the first task's), so the
        # answering task ends at least that long after the request: the legs until its end
        # hold the pause, and the way back does not.
        (Pause(wait_for_signal=True), PAUSE_MS / 1000, _UNTIL_THE_ANSWER),
    ],
    ids=["local activity", "answered by a later task"],
)
async def test_the_legs_add_up_and_the_workflow_tasks_hold_the_work_until_the_answer(
    temporal_env: WorkflowEnvironment, order: Pause, signal_after: float, holding: tuple[str, ...]
) -> None:
    client, queue = temporal_env.client, f"waterfall-{uuid.uuid4().hex[:8]}"
    async with _worker(client, queue):
        answered = await _order(client, queue, order, signal_after)
        split = await read_legs(client, answered)

    assert list(split) == list(LEGS)
    assert sum(split.values()) == pytest.approx(answered.latency_ms, abs=0.01)
    assert sum(split[leg] for leg in holding) >= PAUSE_MS
    assert all(split[leg] >= 0 for leg in LEGS)
    assert all(split[leg] < PAUSE_MS for leg in LEGS if leg not in holding)


async def test_time_before_the_engine_has_the_order_is_the_first_leg(
    temporal_env: WorkflowEnvironment,
) -> None:
    client, queue = temporal_env.client, f"waterfall-{uuid.uuid4().hex[:8]}"
    async with _worker(client, queue):
        orders = [await _order(client, queue, Pause()) for _ in range(3)]
        # As if each caller had spent 0.4 s before its request reached the engine.
        late = [Answered(o.workflow_id, o.sent - 0.4, o.answered) for o in orders]
        medians = await median_legs(client, late)

    assert medians["to the engine"] >= 400
    assert all(medians[leg] < 400 for leg in LEGS if leg != "to the engine")
