"""A caller's idle connection to the API served as `make run` and the image serve it: kept open
past uvicorn's own 5 s, so a caller's pool (or a load balancer) does not send an order down a
connection the API is closing."""

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.apart import served_apart
from tests.support.stack import Stack

REQUEST = b"GET /health/live HTTP/1.1\r\nHost: api\r\n\r\n"
LENGTH = b"content-length:"


def exchange(connection: socket.socket) -> bytes:
    """One request on the open connection; its whole answer, or b"" if the API had closed it."""
    connection.sendall(REQUEST)
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = connection.recv(4096)
        if not chunk:
            return answer
        answer += chunk
    head, body = answer.split(b"\r\n\r\n", 1)
    [length] = [int(h[len(LENGTH) :]) for h in head.lower().split(b"\r\n") if h.startswith(LENGTH)]
    while len(body) < length:
        body += connection.recv(4096)
    return head + b"\r\n\r\n" + body


def connect(base: str) -> socket.socket:
    address = urlsplit(base)
    assert address.hostname is not None
    assert address.port is not None
    return socket.create_connection((address.hostname, address.port), timeout=10)


def test_an_idle_callers_connection_stays_open_past_uvicorns_five_seconds(
    stack: Stack, tmp_path: Path
) -> None:
    with served_apart(stack, tmp_path) as base, connect(base) as connection:
        first = exchange(connection)
        time.sleep(6)
        second = exchange(connection)

    assert first.startswith(b"HTTP/1.1 200")
    assert second.startswith(b"HTTP/1.1 200"), "the API closed the idle connection"


def test_the_api_closes_an_idle_connection_after_its_setting(stack: Stack, tmp_path: Path) -> None:
    with (
        served_apart(stack, tmp_path, api_keep_alive_seconds=1) as base,
        connect(base) as connection,
    ):
        first = exchange(connection)
        time.sleep(2.5)
        connection.settimeout(0.5)  # a connection still open times out instead of answering b""
        closed = connection.recv(4096)

    assert first.startswith(b"HTTP/1.1 200")
    assert closed == b""
