"""The problem document as OpenAPI sees it, and the error answers every route may give."""

from typing import Any

from pydantic import BaseModel, ConfigDict


class ProblemOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    code: str | None = None
    traceId: str | None = None  # noqa: N815  (the wire name)
    errors: dict[str, list[str]] | None = None


_DESCRIPTIONS = {
    400: "The request is invalid; `errors` lists each field.",
    401: "No valid bearer token (or, for reports, no valid signature).",
    403: "The token lacks the scope or the org claim.",
    404: "NOT-00003: no such shipment for this caller.",
    413: "The request body is larger than `MAX_REQUEST_BYTES` (1 MiB).",
    415: "The body is not JSON.",
    409: "The request conflicts with the resource's state; `detail` says how.",
    422: "The idempotencyId was used for different content (with IDEMPOTENCY_MISMATCH=reject).",
    429: "Rate limit: too many orders for this recipient or tenant; see Retry-After.",
    503: "NOT-00004: a dependency did not answer in time; nothing was sent. Retry.",
}


def problem_responses(
    *codes: int, described: dict[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem documents a route can answer; `described` replaces the
    common description of a code for this route."""
    descriptions = {**_DESCRIPTIONS, **(described or {})}
    return {
        code: {
            "model": ProblemOut,
            "description": descriptions[code],
            "content": {"application/problem+json": {}},
        }
        for code in codes
    }
