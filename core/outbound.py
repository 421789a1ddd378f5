"""Our outgoing HTTP clients (to providers, to webhook receivers): how long they keep an idle
connection."""

from typing import Any

import httpx

# Servers commonly close a connection after 5 s of quiet (Node's and uvicorn's default,
# Apache's KeepAliveTimeout), and httpx keeps one 5 s too: a request sent as the server closed
# it failed after it may have left, which a handover must then call "may have been sent".
# Dropping them first costs a new connection for a request after 4 to 5 s of quiet.
IDLE_CONNECTION_SECONDS = 4.0


def new_client(
    max_connections: int | None = 100, max_keepalive_connections: int | None = 20, **options: Any
) -> httpx.AsyncClient:
    """httpx's own caps (or the caller's), idle connections dropped before servers drop them;
    `options` go to httpx. The gateways share one such client."""
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive_connections,
        keepalive_expiry=IDLE_CONNECTION_SECONDS,
    )
    return httpx.AsyncClient(limits=limits, **options)
