"""The engine floor: one Update-with-Start round trip to a workflow that does nothing, on the
benchmark's own Temporal server. What any order costs before our code does any work.
Benchmark-only; never part of the product."""

import time
import uuid
from dataclasses import dataclass

from temporalio import workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.load import percentile


@dataclass
class EmptyInput:
    pass


@dataclass
class EmptyResult:
    answered: bool = True


@workflow.defn
class EmptyWorkflow:
    """Answers the update that started it, then ends."""

    @workflow.run
    async def run(self, _: EmptyInput) -> EmptyResult:
        await workflow.wait_condition(workflow.all_handlers_finished)
        return EmptyResult()

    @workflow.update
    async def answer(self, _: EmptyInput) -> EmptyResult:
        return EmptyResult()


async def round_trips(client: Client, count: int) -> dict[str, float]:
    """`count` sequential round trips, each timed from the call to the update's answer."""
    queue = f"bench-engine-{uuid.uuid4().hex[:8]}"
    # Run like the product's worker, so the difference to our path is our own work.
    runner = UnsandboxedWorkflowRunner()
    latencies = []
    async with Worker(client, task_queue=queue, workflows=[EmptyWorkflow], workflow_runner=runner):
        for _ in range(count + 10):
            start = WithStartWorkflowOperation(
                EmptyWorkflow.run,
                EmptyInput(),
                id=f"bench-engine/{uuid.uuid4()}",
                task_queue=queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
            began = time.perf_counter()
            await client.execute_update_with_start_workflow(
                EmptyWorkflow.answer, EmptyInput(), start_workflow_operation=start
            )
            latencies.append((time.perf_counter() - began) * 1000)
    measured = latencies[10:]  # the first ones warm the worker's caches
    return {
        "count": len(measured),
        "p50_ms": round(percentile(measured, 0.5), 1),
        "p99_ms": round(percentile(measured, 0.99), 1),
    }
