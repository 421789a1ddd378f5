"""The handover's time budget: every timeout and margin of the order path, from three settings."""

from dataclasses import dataclass
from datetime import timedelta

# The workflow gives up on the gateway this long before the API gives up on the workflow, so the
# caller hears "nothing was sent" from the workflow rather than a bare timeout.
DECISION_MARGIN_SECONDS = 1.0
# A gateway call may run this much past its own timeout, and a handover attempt this much past
# the deadline, so that the gateway client's timeout (which knows whether the request left) and
# the attempt's own deadline end an attempt, not the SDK's.
ATTEMPT_SLACK_SECONDS = 0.5
# The longest wait between two attempts. With less time than this left, a failed attempt is
# the last, so the caller hears of it before its deadline rather than racing it.
LONGEST_BACKOFF = timedelta(seconds=1)
FIRST_BACKOFF = timedelta(milliseconds=200)
# After SIGTERM, processes let the longest request in flight finish, with this to spare.
SHUTDOWN_SPARE_SECONDS = 5.0


@dataclass(frozen=True)
class HandoverBudget:
    """`deadline_seconds`: the longest the API holds a request; `gateway_timeout_seconds`: one
    call to a gateway; `task_timeout_seconds`: how soon another worker takes over an order whose
    worker stopped."""

    deadline_seconds: float
    gateway_timeout_seconds: float
    task_timeout_seconds: float

    @property
    def workflow_seconds(self) -> float:
        """How long the workflow tries to hand over, counted from the request."""
        return self.deadline_seconds - DECISION_MARGIN_SECONDS

    @property
    def call_seconds(self) -> float:
        """One gateway call, with its slack."""
        return self.gateway_timeout_seconds + ATTEMPT_SLACK_SECONDS

    @property
    def attempt_seconds(self) -> float:
        """The start-to-close timeout of one handover attempt. An attempt asks the providers in
        turn (on to the next only after one certainly did not take the message), each call
        bounded by the time left before the deadline, so the attempt ends by then; a resumed
        attempt asks one provider, bounded by its call. The SDK's timeout is only a backstop.

        It must also outlast the deadline: the SDK leaves each local retry's start-to-close timer
        running, and one firing ends whichever attempt runs then (docs/operations.md)."""
        return max(self.workflow_seconds, self.call_seconds) + ATTEMPT_SLACK_SECONDS

    def conflicts(self) -> list[str]:
        """What makes this budget impossible to keep; empty when every part fits.

        A second provider is asked within the same deadline: after a refused connection (a
        millisecond) it has the whole of its call; after a slow refusal, what is left. So one
        call must fit, and failover needs no more of the budget than that."""
        found = []
        if self.call_seconds > self.workflow_seconds:
            found.append(
                f"one gateway call ({self.gateway_timeout_seconds:g} s + "
                f"{ATTEMPT_SLACK_SECONDS:g} s) does not fit in the handover deadline "
                f"({self.deadline_seconds:g} s - {DECISION_MARGIN_SECONDS:g} s to answer): "
                "lower GATEWAY_TIMEOUT_SECONDS or raise HANDOVER_DEADLINE_SECONDS"
            )
        if self.task_timeout_seconds >= self.deadline_seconds:
            found.append(
                f"WORKFLOW_TASK_TIMEOUT_SECONDS ({self.task_timeout_seconds:g} s) must be below "
                f"HANDOVER_DEADLINE_SECONDS ({self.deadline_seconds:g} s), or an order whose "
                "worker stopped could never be answered in time"
            )
        return found
