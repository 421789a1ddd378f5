"""The handover budget: derived timeouts, and combinations that cannot be kept."""

import pytest
from pydantic import ValidationError

from core.config import Settings
from domain.deadlines import (
    ATTEMPT_SLACK_SECONDS,
    DECISION_MARGIN_SECONDS,
    LONGEST_BACKOFF,
    HandoverBudget,
)


def test_defaults_fit_and_derive_every_timeout() -> None:
    budget = Settings(_env_file=None).budget  # type: ignore[call-arg]

    assert budget.conflicts() == []
    assert budget.workflow_seconds == budget.deadline_seconds - DECISION_MARGIN_SECONDS
    assert budget.call_seconds == budget.gateway_timeout_seconds + ATTEMPT_SLACK_SECONDS
    # An attempt may ask every provider in turn until the deadline, and ends by itself by then.
    assert budget.attempt_seconds == budget.workflow_seconds + ATTEMPT_SLACK_SECONDS
    # A gateway that refuses at once leaves room for several retries before the deadline.
    assert LONGEST_BACKOFF.total_seconds() * 3 < budget.workflow_seconds


@pytest.mark.parametrize(
    ("deadline", "gateway", "task", "names"),
    [
        (3, 4, 1, "GATEWAY_TIMEOUT_SECONDS"),
        (3, 1.6, 1, "GATEWAY_TIMEOUT_SECONDS"),
        (10, 4, 10, "WORKFLOW_TASK_TIMEOUT_SECONDS"),
    ],
    ids=["gateway-longer-than-deadline", "no-room-to-answer", "takeover-after-deadline"],
)
def test_settings_refuse_a_budget_that_cannot_fit(
    deadline: float, gateway: float, task: float, names: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            handover_deadline_seconds=deadline,
            gateway_timeout_seconds=gateway,
            workflow_task_timeout_seconds=task,
        )

    assert names in str(refused.value)


def test_a_single_attempt_that_just_fits_is_allowed() -> None:
    budget = HandoverBudget(deadline_seconds=4, gateway_timeout_seconds=2.5, task_timeout_seconds=3)

    assert budget.conflicts() == []
    assert budget.call_seconds == budget.workflow_seconds
