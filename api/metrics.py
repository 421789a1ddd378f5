"""Request latency by route template: pure ASGI, so it also times the guard's refusals."""

import time

from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import metrics

# Paths that match no route (scanners, typos) share one label, so they cannot grow the series.
UNMATCHED = "unmatched"


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._templates: dict[int, str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, recording_send)
        finally:
            route = self._template(scope)
            metrics.observe_request(scope["method"], route, status, time.perf_counter() - started)

    def _template(self, scope: Scope) -> str:
        """The matched route's full template (prefixes of included routers and all)."""
        if self._templates is None:
            # Every router is included before the first request arrives.
            contexts = iter_route_contexts(scope["app"].routes)
            self._templates = {id(c.original_route): c.path for c in contexts if c.path}
        return self._templates.get(id(scope.get("route")), UNMATCHED)
