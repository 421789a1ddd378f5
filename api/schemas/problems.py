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


def _problem(description: str) -> dict[str, Any]:
    return {
        "model": ProblemOut,
        "description": description,
        "content": {"application/problem+json": {}},
    }


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("The request is invalid; `errors` lists each field."),
    401: _problem("No valid bearer token."),
    403: _problem("The token lacks the scope or the org claim."),
    404: _problem("NOT-00003: no such shipment for this caller."),
    413: _problem("The request body is too large."),
    415: _problem("The body is not JSON."),
    422: _problem("The idempotencyId was used for different content (when rejecting)."),
    503: _problem("NOT-00004: the handover did not complete; nothing was sent. Retry."),
}
