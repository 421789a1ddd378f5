"""A handover failure as the ApplicationError that carries it to the workflow and the API."""

from temporalio.exceptions import ApplicationError

from domain.failures import HandoverFailure


def handover_error(
    failure: HandoverFailure, *, final: bool = True, message: str | None = None
) -> ApplicationError:
    """`final` is False only for a failure that a later attempt may overcome."""
    return ApplicationError(
        message or failure.reason, failure.details(), type=failure.kind, non_retryable=final
    )
