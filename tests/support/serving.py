"""Run an ASGI app under uvicorn on a local port, inside the test's own event loop."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn

from devstack.processes import free_port


class InProcessServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # pytest owns the signals of this process.
        yield


@contextlib.asynccontextmanager
async def serving(
    app: Any, port: int | None = None, grace: int = 1, **options: Any
) -> AsyncIterator[str]:
    """Yield the base URL while `app` answers on 127.0.0.1; `options` go to uvicorn's Config."""
    port = port or free_port()
    # A fake that hangs on purpose must not hold the shutdown for longer than `grace`.
    config = uvicorn.Config(
        app,
        **{
            "host": "127.0.0.1",
            "port": port,
            "log_level": "warning",
            "timeout_graceful_shutdown": grace,
            **options,
        },
    )
    server = InProcessServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            _raise_start_failure(task, port)
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _raise_start_failure(task: "asyncio.Task[None]", port: int) -> None:
    # uvicorn ends with SystemExit when it cannot bind, which would end the whole test session.
    try:
        task.result()
    except SystemExit as exit_:
        raise RuntimeError(f"uvicorn could not start on port {port} (exit {exit_.code})") from None
    raise RuntimeError(f"uvicorn stopped before it started on port {port}")
