"""The worker as a process: its metrics endpoints, JSON logs, open-file limit, and draining on
SIGTERM."""

import asyncio
import contextlib
import json
import resource
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core.config import Settings
from devstack import services
from devstack.processes import free_port
from devstack.scratch import scratch_connection, scratch_settings
from gateways.smtp import SmtpSettings
from tests.support.answers import shipment_id
from tests.support.bodies import email_order, new_key, sms_order
from tests.support.fakes.smtp import FakeSmtp
from tests.support.inprocess import api_and_worker_with, api_for, running_worker
from tests.support.metrics import metric
from tests.support.polling import eventually, final_status
from tests.support.routes import EMAIL, SMS
from tests.support.simulator import received_for
from tests.support.stack import Stack, Tenant
from tests.support.store import shipment_row
from tests.support.webhooks import Receiver, subscribe
from worker import OTHER_FILES

ROOT = Path(__file__).resolve().parent.parent
SLOW = "+4799990012"  # the simulator holds this handover for 2 s
OPEN_FILES = resource.RLIMIT_NOFILE


@dataclass
class WorkerProcess:
    settings: Settings
    process: asyncio.subprocess.Process
    lines: list[dict[str, Any]] = field(default_factory=list)

    def logged(self, text: str) -> bool:
        return any(text in line.get("message", "") for line in self.lines)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            try:
                self.lines.append(json.loads(raw))
            except ValueError:
                self.lines.append({"message": raw.decode(errors="replace"), "not_json": True})


def api_settings(worker: WorkerProcess) -> Settings:
    """The worker's settings for an in-process API: text logs, so that this test process
    keeps its own tracer provider (JSON logs would install one)."""
    return worker.settings.model_copy(update={"log_format": "text"})


@contextlib.asynccontextmanager
async def worker_process(
    stack: Stack, files: tuple[int, int] | None = None, **overrides: object
) -> AsyncIterator[WorkerProcess]:
    """`python -m worker` on a fresh task queue, logging JSON lines, with its own metric ports;
    started with the (soft, hard) open-file limits `files` if given."""
    settings = stack.settings.model_copy(
        update={
            "temporal_task_queue": f"proc-{uuid.uuid4().hex[:8]}",
            "worker_metrics_port": free_port(),
            "worker_sdk_metrics_port": free_port(),
            "log_format": "json",
            "log_level": "INFO",
            **overrides,
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker",
        cwd=ROOT,
        env={**services.environment(settings, stack.connection), "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        preexec_fn=None if files is None else lambda: resource.setrlimit(OPEN_FILES, files),
    )
    worker = WorkerProcess(settings, process)
    reader = asyncio.create_task(worker._read())
    try:

        async def polling() -> bool:
            return worker.logged("worker polling")

        await eventually(polling, within=30)
        yield worker
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await reader


async def scrape(port: int) -> str:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200
    return response.text


async def test_worker_serves_our_metrics_and_the_sdks(stack: Stack, tenant: Tenant) -> None:
    connection = stack.connection
    async with worker_process(stack) as worker, api_for(api_settings(worker), connection) as api:
        placed = await api.post(SMS, json=sms_order(), headers=tenant.headers)
        assert placed.status_code == 201
        await final_status(stack.api, tenant.headers, shipment_id(placed))

        async def counted() -> str | None:
            text = await scrape(worker.settings.worker_metrics_port)
            return text if "notifications_final_statuses_total{" in text else None

        ours = await eventually(counted)
        sdk = await scrape(worker.settings.worker_sdk_metrics_port)
        worker.process.send_signal(signal.SIGTERM)
        code = await worker.process.wait()

    simulator = {"provider": "simulator"}
    accepted = {"outcome": "accepted", **simulator}
    delivered = {"channel": "SMS", "status": "SMS_Delivered"}
    assert metric(ours, "notifications_handover_duration_seconds_count", **accepted) == 1
    assert metric(ours, "notifications_final_statuses_total", **delivered) == 1
    assert metric(ours, "notifications_delivery_report_lag_seconds_count", **simulator) == 1
    hand_over = _of_workflow(worker, stack.client.namespace, "hand_over")
    assert metric(sdk, "temporal_local_activity_total_total", **hand_over) == 1
    assert code == 0, worker.lines
    assert not [line for line in worker.lines if line.get("not_json")]


def _of_workflow(worker: WorkerProcess, namespace: str, activity_type: str) -> dict[str, str]:
    """The labels the SDK puts on its local-activity metrics."""
    return {
        "activity_type": activity_type,
        "namespace": namespace,
        "service_name": "temporal-core-sdk",
        "task_queue": worker.settings.temporal_task_queue,
        "workflow_type": "InstantNotificationWorkflow",
    }


async def test_stopping_says_goodbye_on_the_smtp_connections_kept_open(
    stack: Stack, tenant: Tenant
) -> None:
    fake = FakeSmtp()
    async with fake.running("none", None) as port:
        smtp = SmtpSettings(host="127.0.0.1", port=port, tls="none")
        async with api_and_worker_with(stack, email_providers=["smtp"], smtp=smtp) as api:
            for _ in range(2):
                placed = await api.post(EMAIL, json=email_order(), headers=tenant.headers)
                assert placed.status_code == 201, placed.text
            # One connection carried both, and waits open for the next.
            assert (fake.connections, len(fake.received), fake.goodbyes) == (1, 2, 0)

        assert fake.goodbyes == 1


async def test_sigterm_drains_the_handover_in_flight(stack: Stack, tenant: Tenant) -> None:
    """The handover is a local activity: SIGTERM stops polling, but the workflow task that
    runs it goes on within the grace period, records the result and answers the caller."""
    key = new_key()
    connection = stack.connection
    async with worker_process(stack) as worker, api_for(api_settings(worker), connection) as api:
        placing = asyncio.create_task(
            api.post(SMS, json=sms_order(SLOW, key=key), headers=tenant.headers)
        )

        async def in_flight() -> bool:
            """The simulator holds the message, and its answer is not recorded yet."""
            held = await received_for(stack.simulator, tenant.org, key)
            row = shipment_row(stack.engine, tenant.org, key)
            return bool(held) and row is not None and row.status == "SMS_Sending"

        await eventually(in_flight)
        worker.process.send_signal(signal.SIGTERM)
        placed = await placing
        code = await worker.process.wait()

    # The draining worker finished the handover and answered the caller before it exited.
    assert placed.status_code == 201
    assert code == 0, worker.lines
    handover = next(line for line in worker.lines if line["message"].startswith("handover of"))
    assert len(handover["trace_id"]) == 32
    # Reports arrive after it left: a new worker on the queue takes the order to its end.
    async with running_worker(stack.client, worker.settings, stack.engine):
        status = await final_status(stack.api, tenant.headers, shipment_id(placed))
    assert status == "SMS_Delivered"
    held = await received_for(stack.simulator, tenant.org, key)
    assert [m["submissions"] for m in held] == [1]


async def test_sigterm_stops_the_orders_polling_while_the_webhooks_drain(
    stack: Stack, tenant: Tenant
) -> None:
    """A delivery hangs through the webhooks' whole grace period; an order placed meanwhile
    must wait for another worker, not be handed over by one that is stopping."""
    key = new_key()
    receiver = Receiver(hang=True)
    async with (
        receiver.running(),
        worker_process(stack, worker_shutdown_grace_seconds=3.0) as worker,
        api_for(api_settings(worker), stack.connection) as api,
    ):
        await subscribe(stack, tenant, receiver.url)
        first = await api.post(SMS, json=sms_order(), headers=tenant.headers)
        await receiver.events(1)
        worker.process.send_signal(signal.SIGTERM)
        await eventually(draining(worker))
        placing = asyncio.create_task(
            api.post(SMS, json=sms_order(key=key), headers=tenant.headers)
        )
        code = await worker.process.wait()
        placing.cancel()
        held = await received_for(stack.simulator, tenant.org, key)

    assert first.status_code == 201
    assert code == 0, worker.lines
    assert held == []
    assert shipment_row(stack.engine, tenant.org, key) is None


def draining(worker: WorkerProcess) -> Callable[[], Awaitable[bool]]:
    async def logged() -> bool:
        return worker.logged("worker draining")

    return logged


def soft_file_limit(worker: WorkerProcess) -> int:
    for line in Path(f"/proc/{worker.process.pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no open-file limit listed")


async def test_worker_raises_its_open_file_limit_for_the_webhooks_sockets(stack: Stack) -> None:
    hard = resource.getrlimit(OPEN_FILES)[1]
    settings = {"webhook_max_concurrent_deliveries": 60, "webhook_limit_per_tenant": 10}
    async with worker_process(stack, files=(256, hard), **settings) as worker:
        raised = soft_file_limit(worker)

    assert raised == 60 * 10 + OTHER_FILES
    assert not worker.logged("open files limited")


async def test_worker_warns_when_the_hard_file_limit_is_too_low(stack: Stack) -> None:
    async with worker_process(stack, files=(256, 512)) as worker:
        raised = soft_file_limit(worker)

    assert raised == 512
    assert worker.logged("open files limited to 512")


def test_worker_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    env = services.environment(scratch_settings(tmp_path), scratch_connection())

    done = subprocess.run(
        [sys.executable, "-m", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode != 0
    assert "not migrated" in done.stderr
    assert "make migrate" in done.stderr
