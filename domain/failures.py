"""Why a handover ended without an answer for the caller: the kinds, and what each carries."""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum


class FailureKind(StrEnum):
    """The `type` of the error that ends a handover (the strings are in recorded histories)."""

    NOT_TAKEN = "GatewayUnavailable"  # no provider asked took the message: nothing was sent
    PROVIDERS_RESTING = "ProvidersResting"  # every provider's circuit is open: none was asked
    DEADLINE_PASSED = "HandoverDeadlinePassed"  # no attempt could start in time: nothing sent
    AMBIGUOUS = "HandoverAmbiguous"  # the request left, no answer came: it may have been sent
    KEY_ALREADY_USED = "KeyAlreadyUsed"  # another order holds the idempotency key
    RATE_LIMITED = "RateLimited"  # over a rate limit: nothing was sent
    UNEXPECTED = "HandoverError"  # an error of none of these kinds (a defect)


@dataclass(frozen=True)
class HandoverFailure:
    """The one detail of a handover's ApplicationError, from the activity through the workflow
    to the API. `scope` is set for RATE_LIMITED; `retry_after_seconds` for RATE_LIMITED and
    PROVIDERS_RESTING; `gateway_reference` for AMBIGUOUS, where the provider's name for the
    message was known before the send (an SMTP Message-ID), so that its reports find it."""

    kind: FailureKind
    reason: str
    scope: str | None = None
    retry_after_seconds: float | None = None
    gateway_reference: str | None = None

    def details(self) -> dict[str, object]:
        """As it travels in an error's details."""
        return asdict(self)

    @classmethod
    def of(
        cls, error_type: str | None, details: Sequence[object], message: str
    ) -> "HandoverFailure":
        """Read it back from an error's type and details (which arrive as plain JSON)."""
        first = details[0] if details else None
        if isinstance(first, Mapping) and _is_kind(first.get("kind")):
            return cls(
                kind=FailureKind(first["kind"]),
                reason=str(first.get("reason") or message),
                scope=_optional_str(first.get("scope")),
                retry_after_seconds=_optional_float(first.get("retry_after_seconds")),
                gateway_reference=_optional_str(first.get("gateway_reference")),
            )
        # Errors raised before the failure carried its details name their kind by type alone.
        if _is_kind(error_type):
            return cls(kind=FailureKind(str(error_type)), reason=message)
        return cls(kind=FailureKind.UNEXPECTED, reason=message)


def _is_kind(value: object) -> bool:
    return value in FailureKind._value2member_map_


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def _optional_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
