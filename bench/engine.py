"""The engine floor: an order's Temporal shape with none of our work in it, on the benchmark's own
Temporal server. Update-with-Start whose update waits for a no-op local activity, a TTL timer
raced by a signal about 100 ms later, a second no-op local activity, completion; a Python worker,
unsandboxed, in a process of its own. What any order costs the engine before our code does
anything. Benchmark-only; never part of the product.

`python -m bench.engine ADDRESS TASK_QUEUE` runs the floor's worker.
"""

import asyncio
import contextlib
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import uvloop
from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.targets import Target
from devstack.processes import Service
from domain.orders import MAX_SMS_TTL_SECONDS

REPORT_AFTER_SECONDS = 0.1  # the simulator reports about this long after its handover
_QUICK = timedelta(seconds=5)
_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=1))


@dataclass(frozen=True)
class FloorOrder:
    # The service's orders' timer (their TTL, the longest an SMS takes, and the grace): longer
    # than a whole run, so no cancelled timer of an earlier phase fires in a later one's CPU.
    ttl_seconds: float = MAX_SMS_TTL_SECONDS + 60.0


@dataclass(frozen=True)
class FloorAnswer:
    handed_over: bool = True


@dataclass(frozen=True)
class FloorReport:
    final: bool = True


@dataclass(frozen=True)
class FloorResult:
    reported: bool


@activity.defn
async def do_nothing(order: FloorOrder) -> FloorAnswer:
    return FloorAnswer()


@workflow.defn
class FloorWorkflow:
    """An order's shape: handover, answer, a report raced by the TTL timer, a record, the end."""

    def __init__(self) -> None:
        self._handed_over = False
        self._reported = False

    @workflow.run
    async def run(self, order: FloorOrder) -> FloorResult:
        await self._local(order)
        self._handed_over = True
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._reported, timeout=order.ttl_seconds)
        await self._local(order)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return FloorResult(reported=self._reported)

    @workflow.update
    async def handover(self, _: FloorOrder) -> FloorAnswer:
        await workflow.wait_condition(lambda: self._handed_over)
        return FloorAnswer()

    @workflow.signal
    def report(self, _: FloorReport) -> None:
        self._reported = True

    async def _local(self, order: FloorOrder) -> FloorAnswer:
        return await workflow.execute_local_activity(
            do_nothing, order, start_to_close_timeout=_QUICK, retry_policy=_RETRY
        )


class FloorOrders:
    """The floor's two calls to Temporal, as the API makes them for a real order: the order's
    Update-with-Start, and its report's signal."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue

    async def hand_over(self) -> str | None:
        """Update-with-Start of a new order: its workflow ID once the handover is answered."""
        workflow_id = f"bench-engine/{uuid.uuid4()}"
        start = WithStartWorkflowOperation(
            FloorWorkflow.run,
            FloorOrder(),
            id=workflow_id,
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        answer = await self._client.execute_update_with_start_workflow(
            FloorWorkflow.handover, FloorOrder(), start_workflow_operation=start
        )
        return workflow_id if answer.handed_over else None

    async def report(self, workflow_id: str) -> None:
        handle = self._client.get_workflow_handle(workflow_id)
        await handle.signal(FloorWorkflow.report, FloorReport())


class ReportedOrders:
    """Orders placed through `hand_over`, each reported on through `report` a while after its
    answer, as the simulator reports after its handover: straight to Temporal for the floor,
    over HTTP for the floor behind a front door (bench/front_door.py)."""

    def __init__(
        self,
        hand_over: Callable[[], Awaitable[str | None]],
        report: Callable[[str], Awaitable[object]],
    ) -> None:
        self._hand_over = hand_over
        self._report = report
        self._reports: set[asyncio.Task[None]] = set()

    async def place(self, _: int = 0) -> str | None:
        """The order's workflow ID once its handover is answered; its report follows."""
        workflow_id = await self._hand_over()
        if workflow_id is not None:
            report = asyncio.create_task(self._report_later(workflow_id))
            self._reports.add(report)
            report.add_done_callback(self._reports.discard)
        return workflow_id

    async def settle(self) -> None:
        """Wait for the reports still to be sent, and for what the workflows do after them."""
        await asyncio.gather(*self._reports)
        await asyncio.sleep(1)  # the second local activity and the completion

    async def _report_later(self, workflow_id: str) -> None:
        await asyncio.sleep(REPORT_AFTER_SECONDS)
        await self._report(workflow_id)


WORKER = "engine worker"  # the floor's worker process, by name


def worker_service(address: str, task_queue: str) -> Service:
    """The floor's worker, a process of its own as the service's worker is."""
    return Service(WORKER, [sys.executable, "-m", "bench.engine", address, task_queue])


async def target(address: str, task_queue: str, pids: dict[str, int]) -> Target:
    """Floor orders through a client of their own (plain: the floor seals nothing)."""
    client = await Client.connect(address)
    floor = FloorOrders(client, task_queue)
    orders = ReportedOrders(floor.hand_over, floor.report)
    return Target("engine", orders.place, pids, orders.settle, client)


def floor_worker(client: Client, task_queue: str) -> Worker:
    """Unsandboxed, as the service's worker runs its workflow."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[FloorWorkflow],
        activities=[do_nothing],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )


async def serve(address: str, task_queue: str) -> None:
    await floor_worker(await Client.connect(address), task_queue).run()


if __name__ == "__main__":
    uvloop.run(serve(sys.argv[1], sys.argv[2]))  # as the service's worker runs (worker.py)
