"""Start child processes with one prefixed log stream, wait until ready, stop them all."""

import asyncio
import contextlib
import logging
import os
import random
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import BinaryIO

log = logging.getLogger("devstack")

Probe = Callable[[], Awaitable[bool]]


def free_port() -> int:
    """A free port below the kernel's ephemeral range.

    A port the kernel hands out for `bind(0)` is also one it may give the next outgoing
    connection as its source port, which then holds it before our service binds it.
    """
    first_ephemeral = max(_ephemeral_range_start(), _LOWEST_PORT + 1_000)
    while True:
        port = _ports.randrange(_LOWEST_PORT, first_ephemeral)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port


_LOWEST_PORT = 10_000
_ports = random.Random(os.getpid())
_handed_out: set[int] = set()


def _ephemeral_range_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
            return int(ports.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


@dataclass
class Service:
    """`env` is the child's whole environment (by default this process's)."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    ready: Probe | None = None
    startup_seconds: float = 60.0


class ProcessGroup:
    """Children in start order; stopped in reverse order with SIGTERM, then SIGKILL."""

    def __init__(self, echo: bool = True, sink: BinaryIO | None = None) -> None:
        self._echo = echo
        self._sink = sink if sink is not None else sys.stdout.buffer
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.services: dict[str, Service] = {}
        self._relays: list[asyncio.Task[None]] = []

    async def start(self, service: Service) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            *service.command,
            env={**service.env, "PYTHONUNBUFFERED": "1"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[service.name] = process
        self.services[service.name] = service
        self._relays.append(asyncio.create_task(self._relay(service.name, process)))
        if service.ready is not None:
            await self._wait_ready(service, process)
        return process

    async def _wait_ready(self, service: Service, process: asyncio.subprocess.Process) -> None:
        deadline = asyncio.get_running_loop().time() + service.startup_seconds
        assert service.ready is not None
        while not await service.ready():
            if process.returncode is not None:
                raise RuntimeError(f"{service.name} exited with {process.returncode}")
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"{service.name} not ready after {service.startup_seconds}s")
            await asyncio.sleep(0.1)

    async def _relay(self, name: str, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        prefix = f"{name:>9} | ".encode()
        async for line in process.stdout:
            if self._echo:
                self._sink.write(prefix + line)
                self._sink.flush()

    async def stop(self, name: str, sig: int = signal.SIGTERM, grace: float = 15.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()

    async def stop_all(self) -> None:
        for name in reversed(list(self.processes)):
            await self.stop(name)
        for relay in self._relays:
            relay.cancel()

    async def first_exit(self) -> str:
        """Wait until any child exits; return its name."""
        waits = {asyncio.create_task(p.wait()): n for n, p in self.processes.items()}
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return waits[done.pop()]
