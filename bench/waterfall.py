"""Where one order's answer time goes, in four legs that add up to it: until the engine has
started the workflow, until a worker takes the workflow's first task, the workflow tasks until
the one that answers (the local activities run inside them), and back to the caller. The legs
come from the caller's clock and the times in the workflow's history, the same way for the
service and for the engine floor; the benchmark runs both on one machine, so the two clocks are
one."""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

LEGS = ("to the engine", "to a worker", "workflow tasks", "back to the caller")


@dataclass(frozen=True)
class Answered:
    """One order answered: its workflow, and when the caller sent it and had its answer
    (seconds since the epoch)."""

    workflow_id: str
    sent: float
    answered: float

    @property
    def latency_ms(self) -> float:
        return (self.answered - self.sent) * 1000


def _legs(events: Sequence[HistoryEvent], order: Answered) -> dict[str, float]:
    """The order's four legs in milliseconds, from its workflow's history."""
    started = _seconds(events[0])
    first_task = _seconds(next(e for e in events if _is(e, _TASK_STARTED)))
    # The answer leaves with the task that completes the update: the last one before it.
    answer = next(i for i, e in enumerate(events) if _is(e, _UPDATE_COMPLETED))
    answered_by = next(e for e in reversed(events[:answer]) if _is(e, _TASK_COMPLETED))
    marks = (order.sent, started, first_task, _seconds(answered_by), order.answered)
    return {leg: (marks[i + 1] - marks[i]) * 1000 for i, leg in enumerate(LEGS)}


async def read_legs(client: Client, order: Answered) -> dict[str, float]:
    """The order's legs, its workflow's history read through `client`."""
    history = await client.get_workflow_handle(order.workflow_id).fetch_history()
    return _legs(history.events, order)


async def median_legs(client: Client, orders: Sequence[Answered]) -> dict[str, float]:
    """Each leg's median over `orders`, in milliseconds."""
    split = [await read_legs(client, order) for order in orders]
    return {leg: round(statistics.median(s[leg] for s in split), 1) for leg in LEGS}


_TASK_STARTED = "workflow_task_started_event_attributes"
_TASK_COMPLETED = "workflow_task_completed_event_attributes"
_UPDATE_COMPLETED = "workflow_execution_update_completed_event_attributes"


def _is(event: HistoryEvent, attributes: str) -> bool:
    return event.WhichOneof("attributes") == attributes


def _seconds(event: HistoryEvent) -> float:
    return event.event_time.ToNanoseconds() / 1e9
