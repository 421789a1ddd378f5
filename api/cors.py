"""CORS for the routes under one path only: the Temporal UI calls the codec from its origin,
and no other route is opened to a browser on another origin."""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class PathCors:
    def __init__(self, app: ASGIApp, prefix: str, origins: list[str]) -> None:
        self._app = app
        self._prefix = prefix
        self._cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            # The UI's TEMPORAL_CODEC_INCLUDE_CREDENTIALS sends cookies (an authenticating
            # proxy in front of the codec may use them); this API itself reads none.
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self._prefix):
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)
