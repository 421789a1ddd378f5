"""A path ending in a slash names the same resource as without it, as ASP.NET routes it."""

from api.guard import App, Receive, Scope, Send


class TrailingSlash:
    """Pure ASGI. FastAPI answers such a path with a bare 307 to the other, which a client
    may not follow with the body, and .NET's HttpClient follows without `Authorization`."""

    def __init__(self, app: App) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            raw: bytes = scope.get("raw_path") or path.encode()
            scope = {**scope, "path": path.rstrip("/") or "/", "raw_path": raw.rstrip(b"/") or b"/"}
        await self._app(scope, receive, send)
