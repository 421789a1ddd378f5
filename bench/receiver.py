"""A minimal webhook receiver for the benchmark: an asyncio HTTP/1.1 server that notes when
each event arrived and answers 204 (or never), so the figure is ours, not a web framework's."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from devstack.processes import free_port


class Receiver:
    def __init__(self, hang: bool = False) -> None:
        self.port = free_port()
        # Hanging, it reads each request and answers none; its connections close with it.
        self.hang = hang
        self._open: set[asyncio.StreamWriter] = set()
        self.requests = 0
        # (shipment id, event type) -> perf_counter() at arrival
        self.arrived: dict[tuple[str, str], float] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    @asynccontextmanager
    async def running(self) -> AsyncIterator["Receiver"]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        async with server:
            try:
                yield self
            finally:
                for writer in list(self._open):
                    writer.close()

    async def arrival(self, shipment_id: str, event_type: str, within: float = 30.0) -> float:
        deadline = time.perf_counter() + within
        while (shipment_id, event_type) not in self.arrived:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"no {event_type} event for {shipment_id}")
            await asyncio.sleep(0.001)
        return self.arrived[(shipment_id, event_type)]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                event = json.loads(await reader.readexactly(length))
                self.requests += 1
                self.arrived[(event["data"]["shipmentId"], event["type"])] = time.perf_counter()
                if self.hang:
                    await reader.read()  # until the sender gives up
                    break
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._open.discard(writer)
            writer.close()
