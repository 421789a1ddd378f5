"""The worker process: runs InstantNotificationWorkflow and its activities on the task queue."""

import asyncio
import contextlib
import dataclasses
import logging
import os
import resource
import signal
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import NoReturn

import httpx
import uvloop
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from prometheus_client import start_http_server
from sqlalchemy.engine import Engine
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
)
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
)
from temporalio.service import RPCError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.handover import HandoverActivities
from activities.records import RecordActivities
from activities.retention import RetentionActivities
from activities.webhooks import TargetRules, WebhookActivities
from core import outbound
from core.config import Settings, get_settings
from core.connection import ConnectionSettingsError
from core.logs import configure_logging
from core.temporal import TemporalConnectionError, connect_temporal
from core.tracing import configure_tracing, shutdown_tracing, tracing_on
from gateways.registry import Gateways, build_gateways
from store.engine import create_db_engine
from store.limits import Limit
from store.migrate import require_current_schema
from webhooks.sender import Receivers
from workflows.instant_notification import InstantNotificationWorkflow
from workflows.retention import RetentionInput, RetentionWorkflow
from workflows.webhook_event import WebhookEventWorkflow, WebhookRetryWorkflow

log = logging.getLogger("worker")

SERVICE_NAME = "instant-notifications-worker"
RETENTION_SCHEDULE_ID = "instant-notifications-retention"
# Files beyond the webhooks' sockets: Temporal, the database pool, metrics, logs.
OTHER_FILES = 256


def build_worker(
    client: Client,
    settings: Settings,
    engine: Engine,
    gateways: Gateways,
    executor: ThreadPoolExecutor,
) -> Worker:
    records = RecordActivities(engine, rate_limits(settings))
    # Circuits are this process's: reported under the client's identity (host and pid).
    handover = HandoverActivities(gateways, records, client.identity)
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=[InstantNotificationWorkflow, RetentionWorkflow],
        activities=[
            handover.hand_over,
            records.record_transition,
            records.discard_shipment,
            records.find_shipment,
            RetentionActivities(engine).remove_expired,
        ],
        activity_executor=executor,
        # On SIGTERM, running activities get this long to finish before they are cancelled.
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_grace_seconds),
        # A task for a worker that died waits this long on its sticky queue before another
        # worker takes it; the SDK's 10 s would outlast the caller's handover deadline.
        sticky_queue_schedule_to_start_timeout=timedelta(
            seconds=settings.workflow_task_timeout_seconds
        ),
        # The sandbox re-imports the workflow module for every new workflow, which measured
        # 10-17 ms of CPU per order here. Determinism is still checked in the sandbox, by the
        # replay tests over recorded histories (tests/workflows/test_replay.py).
        workflow_runner=UnsandboxedWorkflowRunner(),
    )


def build_webhook_worker(
    client: Client, settings: Settings, engine: Engine, receivers: Receivers
) -> Worker:
    """Deliveries on a task queue and slots of their own: a receiver that hangs holds one of
    these slots until its timeout, never one of the orders'. `receivers`: the webhooks' clients
    (webhooks/sender.py: a client per receiver name, no proxies, no redirects)."""
    rules = TargetRules(
        https_only=settings.environment == "production",
        allow_private=settings.webhook_allow_private_targets,
        attempt_seconds=settings.webhook_timeout_seconds,
    )
    activities = WebhookActivities(engine, receivers, rules)
    return Worker(
        client,
        task_queue=settings.webhook_task_queue,
        workflows=[WebhookEventWorkflow, WebhookRetryWorkflow],
        activities=[
            activities.create_deliveries,
            activities.deliver_event,
            activities.deliver_webhook,
            activities.fail_delivery,
        ],
        max_concurrent_activities=settings.webhook_max_concurrent_deliveries,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_grace_seconds),
        workflow_runner=UnsandboxedWorkflowRunner(),
    )


@asynccontextmanager
async def running_workers(
    client: Client,
    settings: Settings,
    engine: Engine,
    http: httpx.AsyncClient,
    executor: ThreadPoolExecutor,
) -> AsyncIterator[None]:
    """The orders' worker and the webhooks' worker, side by side in this process."""
    # Gateway calls become client spans under the handover activity's span.
    if tracing_on():
        HTTPXClientInstrumentor.instrument_client(http)
    gateways = build_gateways(settings, http)
    async with Receivers() as receivers:
        orders = build_worker(client, settings, engine, gateways, executor)
        webhooks = build_webhook_worker(client, settings, engine, receivers)
        async with orders, webhooks:
            try:
                yield
            finally:
                # Both stop polling at once and drain side by side: left to the context
                # managers, the orders' worker took new orders while the webhooks' drained.
                await asyncio.gather(orders.shutdown(), webhooks.shutdown())
                # Once no handover runs: the SMTP connections kept open say QUIT.
                await gateways.aclose()


async def schedule_retention(client: Client, settings: Settings) -> None:
    """Create or update the Schedule that starts RetentionWorkflow every hour; with
    RETENTION_DAYS=0 there is none. Every worker does this at start: the last one wins, and
    they all hold the same settings."""
    handle = client.get_schedule_handle(RETENTION_SCHEDULE_ID)
    if not settings.retention_days:
        with contextlib.suppress(RPCError):
            await handle.delete()
        return
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionWorkflow.run,
            RetentionInput(days=settings.retention_days, batch_size=settings.retention_batch_size),
            id=RETENTION_SCHEDULE_ID,
            task_queue=settings.temporal_task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
        # A run still going when the next is due has the work in hand: skip the next.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(RETENTION_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        # The state (paused, its note) is the operator's: a worker's start must not resume it.
        await handle.update(
            lambda current: ScheduleUpdate(
                schedule=dataclasses.replace(schedule, state=current.description.schedule.state)
            )
        )


def telemetry_runtime(settings: Settings) -> Runtime:
    """The SDK's own metrics on their Prometheus port, and its core's logs in our log format."""
    port = settings.worker_sdk_metrics_port
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=LoggingConfig.default.filter,
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            ),
            metrics=PrometheusConfig(
                bind_address=f"{settings.worker_metrics_host}:{port}",
                counters_total_suffix=True,
                unit_suffix=True,
                durations_as_seconds=True,
            )
            if port
            else None,
        )
    )


def allow_webhook_sockets(settings: Settings) -> None:
    """Each webhook slot's first attempt may hold a socket per subscription of its tenant until
    its timeout (webhooks/sender.py has no cap): raise the soft open-file limit to fit them, as
    far as the hard limit allows, rather than fail attempts with EMFILE."""
    needed = (
        settings.webhook_max_concurrent_deliveries * settings.webhook_limit_per_tenant + OTHER_FILES
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    if raised < needed:
        log.warning(
            "open files limited to %d; webhook deliveries may need %d: raise the hard limit",
            raised,
            needed,
        )


def rate_limits(settings: Settings) -> list[Limit]:
    return [
        Limit("recipient", settings.recipient_limit, settings.recipient_window_seconds),
        Limit("tenant", settings.tenant_limit, settings.tenant_window_seconds),
    ]


async def main() -> int:
    try:
        await run()
    except (ConnectionSettingsError, TemporalConnectionError) as exc:
        log.error("the worker cannot start: %s", exc)
        return 1
    return 0


async def run() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    configure_tracing(settings, SERVICE_NAME)
    allow_webhook_sockets(settings)
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, settings.worker_metrics_host)
    engine = create_db_engine(settings.database_url)
    require_current_schema(engine)
    client = await connect_temporal(settings, runtime=telemetry_runtime(settings))
    await schedule_retention(client, settings)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    async with outbound.new_client() as http:
        with ThreadPoolExecutor(max_workers=32) as executor:
            async with running_workers(client, settings, engine, http, executor):
                log.info(
                    "worker polling %s and %s on %s",
                    settings.temporal_task_queue,
                    settings.webhook_task_queue,
                    client.service_client.config.target_host,
                )
                await stop.wait()
                log.info("worker draining for up to %ss", settings.worker_shutdown_grace_seconds)
    log.info("worker stopped")


def exit_at_once(code: int) -> NoReturn:
    """End the process without interpreter finalization, which the SDK's native threads can
    abort (SIGABRT) after a clean shutdown; what finalization would flush is flushed here."""
    shutdown_tracing()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    # uvloop: 6% less of the worker's CPU per order than asyncio's own loop, measured.
    exit_at_once(uvloop.run(main()))
