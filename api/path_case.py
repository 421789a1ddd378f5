"""A route's path under the API's base in any case names the same resource, as ASP.NET routes
it: Altinn answers `…/orders/instant/SMS` as `…/orders/instant/sms`."""

import re
from collections.abc import Callable
from typing import Any

from api.guard import App, Receive, Scope, Send

_PARAMETER = re.compile(r"\{[^/}]+\}")


class PathCase:
    """Pure ASGI: a path under `base` that matches a documented route but for the ASCII case of
    its fixed parts is given the route's own spelling; its parameters stay as they came.

    Only under `base`, Altinn's routes: a proxy in front may keep `/metrics` and `/health` off
    the public ingress by a rule that compares paths as written, which `/METRICS` would pass."""

    def __init__(self, app: App, document: Callable[[], dict[str, Any]], base: str) -> None:
        self._app = app
        self._document = document
        self._base = base
        self._routes: list[tuple[re.Pattern[str], list[str | None]]] | None = None
        self._lower = True  # every route spelled in lower case

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = self._spelled(scope)
        await self._app(scope, receive, send)

    def _spelled(self, scope: Scope) -> Scope:
        path: str = scope.get("path", "")
        routes = self._known()
        if self._lower and path == path.lower():
            return scope  # as a route spells it, or no route's: the common case, no matching
        for pattern, parts in routes:
            if pattern.fullmatch(path) is None:
                continue
            raw: bytes = scope.get("raw_path") or path.encode()
            given = raw.split(b"/")
            if len(given) != len(parts):
                return scope  # an encoded slash in a parameter: left to the routes
            spelled = [g if p is None else p.encode() for g, p in zip(given, parts, strict=True)]
            fixed = [g if p is None else p for g, p in zip(path.split("/"), parts, strict=True)]
            return {**scope, "path": "/".join(fixed), "raw_path": b"/".join(spelled)}
        return scope

    def _known(self) -> list[tuple[re.Pattern[str], list[str | None]]]:
        """Each documented path under the base as a pattern that ignores case, and its parts
        (None where a parameter stands), ordered as ASP.NET prefers a literal segment to a
        parameter (`…/shipment/FEED` is the feed, not a shipment so named)."""
        if self._routes is None:
            paths = self._document().get("paths", {})
            routes = [_route(t) for t in paths if t.startswith(f"{self._base}/")]
            # Segment by segment from the left, a literal before a parameter.
            self._routes = sorted(routes, key=lambda route: [p is None for p in route[1]])
            self._lower = all(p == p.lower() for _, parts in routes for p in parts if p)
        return self._routes


def _route(template: str) -> tuple[re.Pattern[str], list[str | None]]:
    parts = template.split("/")
    fixed: list[str | None] = [None if _PARAMETER.fullmatch(p) else p for p in parts]
    pattern = "/".join("[^/]+" if p is None else re.escape(p) for p in fixed)
    # ASCII only: IGNORECASE alone folds a dotless i to `i` and the Kelvin sign to `k`.
    return re.compile(pattern, re.IGNORECASE | re.ASCII), fixed
