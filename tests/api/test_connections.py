"""A caller's idle connection to the API served as `make run` and the image serve it: kept open
past uvicorn's own 5 s, so a caller's pool (or a load balancer) does not send an order down a
connection the API is closing."""

import http.client
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.apart import served_apart
from tests.support.stack import Stack


def connect(base: str) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)


def live(connection: http.client.HTTPConnection) -> int:
    """GET /health/live on the connection; http.client does not reconnect a connection the
    server closed, it raises RemoteDisconnected."""
    connection.request("GET", "/health/live")
    response = connection.getresponse()
    response.read()
    return response.status


def test_an_idle_callers_connection_stays_open_past_uvicorns_five_seconds(
    stack: Stack, tmp_path: Path
) -> None:
    with served_apart(stack, tmp_path) as base:
        connection = connect(base)
        first = live(connection)
        opened = connection.sock
        time.sleep(6)
        second = live(connection)
        reused = connection.sock is opened
        connection.close()

    assert first == 200
    assert second == 200, "the API closed the idle connection"
    assert reused


def test_the_api_closes_an_idle_connection_after_its_setting(stack: Stack, tmp_path: Path) -> None:
    with served_apart(stack, tmp_path, api_keep_alive_seconds=1) as base:
        connection = connect(base)
        first = live(connection)
        time.sleep(2.5)
        assert connection.sock is not None
        connection.sock.settimeout(0.5)  # a connection still open times out instead of b""
        closed = connection.sock.recv(4096)
        connection.close()

    assert first == 200
    assert closed == b""
