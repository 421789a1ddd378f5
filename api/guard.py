"""Checks before any route runs: a trace id, the body size limit and the JSON content type."""

import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from api.problems import Problem, problem_response
from core.tracing import current_ids

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestGuard:
    """Pure ASGI, so the size check also covers chunked bodies that carry no Content-Length."""

    def __init__(self, app: App, max_bytes: int, json_prefixes: tuple[str, ...]) -> None:
        self._app = app
        self._max = max_bytes
        self._json_prefixes = json_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        # The request's OpenTelemetry trace id, so a problem document leads to its trace.
        ids = current_ids()
        scope.setdefault("state", {})["trace_id"] = ids[0] if ids else uuid.uuid4().hex
        problem = self._refusal(scope)
        if problem is not None:
            await problem_response(Request(scope), problem)(scope, receive, send)
            return
        too_large = False

        async def counting_receive() -> Message:
            nonlocal too_large
            message = await receive()
            counted = scope["state"].get("body_bytes", 0) + len(message.get("body", b""))
            scope["state"]["body_bytes"] = counted
            if counted > self._max:
                # Ending the body here stops the read; the route's answer is replaced below.
                too_large = True
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not too_large:
                await send(message)

        try:
            await self._app(scope, counting_receive, guarded_send)
        except Exception:
            if not too_large:
                raise
        if too_large:
            await problem_response(Request(scope), self._too_large())(scope, receive, send)

    def _refusal(self, scope: Scope) -> Problem | None:
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return None
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self._max:
            return self._too_large()
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        wants_json = scope["path"].startswith(self._json_prefixes)
        if wants_json and not (media == "application/json" or media.endswith("+json")):
            return Problem(415, "Unsupported Media Type", "The body must be application/json.")
        return None

    def _too_large(self) -> Problem:
        return Problem(
            413, "Content Too Large", f"The request body must be at most {self._max} bytes."
        )
