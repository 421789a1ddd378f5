"""What one HTTP exchange costs on this machine, in CPU: the pooled httpx client posting a small
JSON body, and a uvicorn FastAPI route that validates it and answers JSON, each on uvloop as the
service's processes are. An order of the service makes EXCHANGES_PER_ORDER such exchanges that
the engine floor does not: this sizes the share of the gap that is the HTTP stack's rather than
our code's. The same posts from aiohttp's client, the benchmark's caller (`bench.caller`),
show what that caller adds to the service's figures.

Run in a process of its own (`python -m bench.http_cost COUNT` prints the figures as JSON), so
that the client runs on uvloop as the worker and the simulator do."""

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import httpx
import uvloop
from fastapi import FastAPI
from pydantic import BaseModel

from bench import caller
from bench.targets import cpu_seconds
from devstack.processes import ProcessGroup, Service, free_port
from devstack.services import uvicorn_command

# The exchanges of an order that the engine floor does not make: the order (from the
# benchmark's caller), the handover to the gateway and the gateway's delivery report (httpx).
EXCHANGES_PER_ORDER = 3
_BODY = {"to": "+4799999999", "body": "Your code is 123456"}
_WARM_UP = 200


class Message(BaseModel):
    to: str
    body: str


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/messages", status_code=201)
    async def accept(message: Message) -> dict[str, str]:
        """Take a message, as a gateway's send route does."""
        return {"to": message.to, "messageId": "m-1"}

    return app


async def measure(count: int) -> dict[str, Any]:
    """The figures of `count` exchanges, one after another on one kept-alive connection."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/messages"
    group = ProcessGroup(echo=False)
    async with httpx.AsyncClient() as http:

        async def ready() -> bool:
            try:
                return (await http.post(url, json=_BODY)).status_code == 201
            except httpx.TransportError:
                return False

        command = uvicorn_command("bench.http_cost:create_app", "127.0.0.1", port)
        server = await group.start(Service("http server", command, ready=ready))
        try:
            async with caller.session() as lean:
                service = await _posts(lambda: _httpx_post(http, url), count, server.pid)
                benchmark = await _posts(lambda: caller.post(lean, url, _BODY), count, server.pid)
        finally:
            await group.stop_all()
    return {
        "exchanges": count,
        "client_cpu_ms": service.client_ms,
        "server_cpu_ms": service.server_ms,
        "caller_cpu_ms": benchmark.client_ms,
    }


class _Cost(NamedTuple):
    client_ms: float
    server_ms: float


async def _posts(post: Callable[[], Awaitable[int]], count: int, server: int) -> _Cost:
    """CPU per post on each side, after a warm-up; every post must be answered 201."""
    for _ in range(_WARM_UP):
        await post()
    server_before, client_before = cpu_seconds(server), time.process_time()
    answered = [await post() for _ in range(count)]
    server_spent = cpu_seconds(server) - server_before
    client_spent = time.process_time() - client_before
    if answered.count(201) != count:
        raise RuntimeError(f"the HTTP server answered {answered.count(201)} of {count} with 201")
    return _Cost(round(1000 * client_spent / count, 2), round(1000 * server_spent / count, 2))


async def _httpx_post(http: httpx.AsyncClient, url: str) -> int:
    return (await http.post(url, json=_BODY)).status_code


async def in_process_of_its_own(count: int) -> dict[str, Any]:
    """`measure` in a child process on uvloop (the benchmark's own loop is asyncio's)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.http_cost", str(count), stdout=asyncio.subprocess.PIPE
    )
    output, _ = await child.communicate()
    if child.returncode:
        raise RuntimeError(f"bench.http_cost exited with {child.returncode}")
    result: dict[str, Any] = json.loads(output)
    return result


if __name__ == "__main__":
    sys.stdout.write(json.dumps(uvloop.run(measure(int(sys.argv[1])))) + "\n")
