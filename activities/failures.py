"""A handover failure as the ApplicationError that carries it to the workflow and the API."""

from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from domain.failures import FailureKind, HandoverFailure


def handover_error(
    failure: HandoverFailure, *, final: bool = True, message: str | None = None
) -> ApplicationError:
    """`final` is False only for a failure that a later attempt may overcome. Every kind but a
    defect is an outcome the service expects (a rate limit, a provider that did not take the
    message): benign, which the SDK logs without a warning and a traceback for each order."""
    expected = failure.kind is not FailureKind.UNEXPECTED
    error = ApplicationError(
        message or failure.reason,
        failure.details(),
        type=failure.kind,
        non_retryable=final,
        category=ApplicationErrorCategory.BENIGN
        if expected
        else ApplicationErrorCategory.UNSPECIFIED,
    )
    # Raised where it is, it would carry the exceptions being handled as its causes, and their
    # words (a provider's reply, which may quote the message) into Temporal's history, the
    # codec's view of it, traces and logs. Its own message says what happened.
    error.__suppress_context__ = True
    return error
