"""HEAD on every GET route: the GET's status and headers without its body (RFC 9110 §9.3.2)."""

from api.guard import App, Message, Receive, Scope, Send


class HeadAsGet:
    """Pure ASGI; FastAPI's routes take only the methods they name, and HEAD is never named."""

    def __init__(self, app: App) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self._app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self._app({**scope, "method": "GET"}, receive, without_body)
