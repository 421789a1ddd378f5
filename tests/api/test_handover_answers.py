"""Every kind of handover failure has one answer, and its details survive Temporal's encoding."""

import pytest
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError

from activities.failures import handover_error
from api.handover_answers import ANSWERS
from domain.failures import FailureKind, HandoverFailure


def test_every_kind_of_failure_has_an_answer() -> None:
    assert set(ANSWERS) == set(FailureKind)


@pytest.mark.parametrize(
    ("kind", "status", "says", "retry_after"),
    [
        (FailureKind.NOT_TAKEN, 503, "nothing was sent", "2"),
        (FailureKind.DEADLINE_PASSED, 503, "nothing was sent", "2"),
        # Only a report or the TTL changes the answer to a retry: no point in asking soon.
        (FailureKind.AMBIGUOUS, 503, "may have been sent", "30"),
        (FailureKind.UNEXPECTED, 503, "could not be completed", "2"),
    ],
)
def test_a_failure_says_whether_anything_was_sent(
    kind: FailureKind, status: int, says: str, retry_after: str
) -> None:
    answer = ANSWERS[kind]
    assert answer is not None

    problem = answer(HandoverFailure(kind, "gateway text"))

    assert problem.status == status
    assert problem.headers == {"Retry-After": retry_after}
    assert problem.detail is not None
    assert says in problem.detail
    assert "gateway text" not in problem.detail


def test_rate_limit_answers_429_with_its_scope_and_wait() -> None:
    answer = ANSWERS[FailureKind.RATE_LIMITED]
    assert answer is not None

    problem = answer(HandoverFailure(FailureKind.RATE_LIMITED, "", "recipient", 12.2))

    assert problem.status == 429
    assert problem.headers == {"Retry-After": "13"}
    assert problem.detail is not None
    assert "recipient" in problem.detail


def test_failure_round_trips_through_the_payload_converter() -> None:
    sent = HandoverFailure(FailureKind.RATE_LIMITED, "over", "tenant", 3.5)
    error = handover_error(sent)
    converter = DataConverter.default
    proto = Failure()
    converter.failure_converter.to_failure(error, converter.payload_converter, proto)
    received = converter.failure_converter.from_failure(proto, converter.payload_converter)

    assert isinstance(received, ApplicationError)
    assert HandoverFailure.of(received.type, received.details, received.message) == sent


def test_errors_of_unknown_kind_are_unexpected() -> None:
    assert HandoverFailure.of("ValueError", (), "boom").kind is FailureKind.UNEXPECTED
    assert HandoverFailure.of(FailureKind.AMBIGUOUS, (), "x").kind is FailureKind.AMBIGUOUS
