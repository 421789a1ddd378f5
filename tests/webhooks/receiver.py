"""A webhook receiver for the tests: a local HTTP server that records what it is sent, and
answers as the test says (2xx, an error status, or never)."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devstack.processes import free_port
from tests.helpers import eventually
from tests.serving import serving


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    status: int = 204
    hang: bool = False
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _receive(self, request: Request) -> Response:
        self.received.append(Received(dict(request.headers), await request.body()))
        if self.hang:
            await asyncio.Event().wait()
        return Response(status_code=self.status)

    @asynccontextmanager
    async def running(self) -> AsyncIterator["Receiver"]:
        """Listening on its port until the block ends; it may be started again after."""
        app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])
        async with serving(app, self.port):
            yield self

    async def events(self, count: int, within: float = 20.0) -> list[Received]:
        """Wait for at least `count` requests; return all of them."""

        async def arrived() -> list[Received] | None:
            return list(self.received) if len(self.received) >= count else None

        return await eventually(arrived, within)

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.received if r.event["type"] == event_type]
