"""Builders of request bodies and bounded polling shared by the tests."""

import asyncio
import contextlib
import json
import os
import random
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gateways import standard_webhooks
from store.engine import create_db_engine

T = TypeVar("T")

BASE = "/notifications/api/v1"
SMS = f"{BASE}/future/orders/instant/sms"
EMAIL = f"{BASE}/future/orders/instant/email"
DEPRECATED = f"{BASE}/future/orders/instant"
SHIPMENT = f"{BASE}/future/shipment"
FEED = f"{BASE}/future/shipment/feed"
REPORTS = f"{BASE}/delivery-reports"


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def random_phone() -> str:
    """A valid Norwegian mobile number outside the simulator's magic range."""
    return f"+479{random.randint(0, 8_999_999):07d}"


def random_email() -> str:
    return f"user.{uuid.uuid4().hex[:12]}@example.no"


def sms_order(
    phone: str | None = None,
    *,
    key: str | None = None,
    ttl: int = 300,
    body: str = "Your code is 123456",
    **top: Any,
) -> dict[str, Any]:
    return {
        "idempotencyId": key or new_key(),
        **top,
        "recipientSms": {
            "phoneNumber": phone or random_phone(),
            "timeToLiveInSeconds": ttl,
            "smsSettings": {"body": body},
        },
    }


def email_order(
    address: str | None = None,
    *,
    key: str | None = None,
    subject: str = "Your login code",
    body: str = "Your code is 123456",
    **top: Any,
) -> dict[str, Any]:
    return {
        "idempotencyId": key or new_key(),
        **top,
        "recipientEmail": {
            "emailAddress": address or random_email(),
            "emailSettings": {"subject": subject, "body": body},
        },
    }


async def eventually(
    probe: Callable[[], Awaitable[T | None]], within: float = 15.0, interval: float = 0.05
) -> T:
    """Poll until `probe` returns something truthy; fail after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


async def completed_manifest(
    api: httpx.AsyncClient, headers: dict[str, str], shipment_id: str, within: float = 15.0
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await api.get(f"{SHIPMENT}/{shipment_id}", headers=headers)
        body: dict[str, Any] = response.json()
        return body if body.get("status") == "Order_Completed" else None

    return await eventually(probe, within)


def signed_report(
    secret: str,
    payload: dict[str, Any],
    *,
    webhook_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A report body and Standard Webhooks headers, as the simulator sends them."""
    body = json.dumps(payload).encode()
    key = standard_webhooks.secret_key(secret)
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    return body, standard_webhooks.signed_headers(key, webhook_id, body, timestamp)


def metric(text: str, name: str, **labels: str) -> float:
    """One sample of a Prometheus text page; 0 when the series does not exist yet."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


_SCRATCH_PREFIX = "notifications_scratch_"


@contextlib.contextmanager
def scratch_postgres_database(server_url: str) -> Iterator[str]:
    """An empty database on the server of `server_url`, dropped afterwards.

    Its name carries this process's id, so databases left by runs that were killed are
    dropped by the next run, and concurrent runs on one machine never share one.
    """
    admin = create_db_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"{_SCRATCH_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            _drop_orphans(connection)
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _drop_orphans(connection: Any) -> None:
    names = connection.execute(
        text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
        {"prefix": f"{_SCRATCH_PREFIX}%"},
    ).scalars()
    for name in list(names):
        pid = int(name.removeprefix(_SCRATCH_PREFIX).split("_")[0])
        if not _alive(pid):
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
