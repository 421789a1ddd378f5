"""The stack's API and worker as processes of their own, started as `make run` starts them."""

import contextlib
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from devstack import services
from devstack.processes import free_port
from tests.support.stack import Stack


@contextlib.contextmanager
def served_apart(stack: Stack, logs: Path, **overrides: Any) -> Iterator[str]:
    """Yield the API's base URL once it is healthy; each process logs to a file in `logs`."""
    settings = stack.settings.model_copy(
        update={
            "api_port": free_port(),
            "temporal_task_queue": f"apart-{uuid.uuid4().hex[:8]}",
            **overrides,
        }
    )
    env = {**services.environment(settings, stack.connection), "PYTHONUNBUFFERED": "1"}
    processes = [
        subprocess.Popen(
            service.command,
            env=env,
            stdout=(logs / f"{service.name}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for service in (
            services.worker(settings, stack.connection),
            services.api(settings, stack.connection),
        )
    ]
    try:
        base = f"http://{settings.api_host}:{settings.api_port}"
        _wait_healthy(base)
        yield base
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)


def _wait_healthy(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API at {base} did not become healthy")
