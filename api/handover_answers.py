"""What the caller hears when a handover ends without one: one answer per kind of failure."""

import logging
import math
from collections.abc import Callable

from api.problems import RETRY_SECONDS, Problem, unavailable
from core.metrics import count_rate_limited
from domain.failures import FailureKind, HandoverFailure

log = logging.getLogger(__name__)


def _rate_limited(failure: HandoverFailure) -> Problem:
    scope = failure.scope or "tenant"
    log.warning("order refused by the %s rate limit", scope)
    count_rate_limited(scope)
    retry_after = max(math.ceil(failure.retry_after_seconds or 1), 1)
    return Problem(
        429,
        "Too Many Requests",
        f"Too many orders for this {scope}; nothing was sent. Retry after the given time.",
        headers={"Retry-After": str(retry_after)},
    )


def _resting(failure: HandoverFailure) -> Problem:
    log.warning("order refused: %s", failure.reason)
    return unavailable(
        "Every gateway is resting after repeated failures; nothing was sent.",
        retry_after=max(math.ceil(failure.retry_after_seconds or RETRY_SECONDS), 1),
    )


def _unexpected(failure: HandoverFailure) -> Problem:
    log.error("handover failed unexpectedly: %s", failure.reason)
    return unavailable("The order could not be completed.")


def _saying(detail: str, retry_after: int = RETRY_SECONDS) -> Callable[[HandoverFailure], Problem]:
    return lambda _failure: unavailable(detail, retry_after)


# Only the message's delivery report or its TTL changes what a retry with the key hears (and
# such a retry sends nothing): asked every 2 s, an email's could be asked for 48 hours.
AMBIGUOUS_RETRY_SECONDS = 30


# None: the key belongs to an order whose workflow retention deleted; its row answers (200).
ANSWERS: dict[FailureKind, Callable[[HandoverFailure], Problem] | None] = {
    FailureKind.NOT_TAKEN: _saying("No gateway accepted the message; nothing was sent."),
    FailureKind.PROVIDERS_RESTING: _resting,
    FailureKind.DEADLINE_PASSED: _saying(
        "The handover could not start before its deadline; nothing was sent."
    ),
    FailureKind.AMBIGUOUS: _saying(
        "The gateway did not confirm the handover; the message may have been sent.",
        AMBIGUOUS_RETRY_SECONDS,
    ),
    FailureKind.RATE_LIMITED: _rate_limited,
    FailureKind.KEY_ALREADY_USED: None,
    FailureKind.UNEXPECTED: _unexpected,
}
