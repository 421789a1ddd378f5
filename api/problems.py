"""RFC 9457 problem documents for every error the API answers."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from store.failures import store_away

PROBLEM_JSON = "application/problem+json"

log = logging.getLogger(__name__)

_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})
_MISSING = "This field is required."
_MESSAGES = {
    "missing": _MISSING,
    "string_type": "Must be a string.",
    "int_type": "Must be an integer.",
    "model_type": "Must be a JSON object.",
    "model_attributes_type": "Must be a JSON object.",
    "dict_type": "Must be a JSON object.",
    "json_invalid": "The request body is not valid JSON.",
}


class Problem(Exception):
    """An error answered as a problem document; `code` is Altinn's NOT-xxxxx where one exists."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status, self.title, self.detail = status, title, detail
        self.code, self.errors, self.headers = code, errors, headers

    def document(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:altinn:error:{self.code}" if self.code else "about:blank",
            "title": self.title,
            "status": self.status,
            "instance": request.url.path,
            "traceId": getattr(request.state, "trace_id", None),
        }
        if self.detail:
            body["detail"] = self.detail
        if self.code:
            body["code"] = self.code
        if self.errors:
            body["errors"] = self.errors
        return body


# How soon a caller may try again after a temporary failure, where nothing says otherwise.
RETRY_SECONDS = 2


def unavailable(detail: str, retry_after: int = RETRY_SECONDS) -> Problem:
    """503 with Altinn's code for a temporary failure; the caller may retry with the same key."""
    return Problem(
        503,
        "A temporary network failure occurred",
        detail,
        code="NOT-00004",
        headers={"Retry-After": str(retry_after)},
    )


def invalid(errors: dict[str, list[str]]) -> Problem:
    """The 400 of ASP.NET's ValidationProblemDetails: what was wrong, by field."""
    return Problem(400, "One or more validation errors occurred.", errors=errors)


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem.document(request),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def validation_errors(exc: RequestValidationError) -> dict[str, list[str]]:
    """Errors keyed by the JSON path of the offending field, e.g. `recipientSms.phoneNumber`."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if loc and loc[0] in _LOCATIONS:
            loc = loc[1:]
        if error["type"] == "json_invalid":
            loc = []
        key = ".".join(loc) or "$"
        message = _MESSAGES.get(error["type"], error["msg"])
        errors.setdefault(key, []).append(message)
    return errors


def install(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(request, invalid(validation_errors(exc)))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        problem = Problem(
            exc.status_code, _title(exc.status_code), str(exc.detail), headers=headers
        )
        return problem_response(request, problem)

    async def on_store_away(request: Request, exc: Exception) -> JSONResponse:
        if not store_away(exc):
            return await on_unexpected(request, exc)
        cause = getattr(exc, "orig", None) or exc
        log.warning("store unavailable on %s %s: %s", request.method, request.url.path, cause)
        return problem_response(request, unavailable("The store is not available."))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, Problem(500, "An unexpected error occurred."))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(OperationalError, on_store_away)
    app.add_exception_handler(PoolTimeout, on_store_away)
    app.add_exception_handler(Exception, on_unexpected)


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route of this path takes, HEAD wherever GET is (api/head.py). Each is
    tried as a request: included routers keep their routes out of sight, and one path may have
    a route per method."""
    methods = {
        method
        for method in _METHODS
        for route in request.app.router.routes
        if route.matches({**request.scope, "method": method})[0] is Match.FULL
    }
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
