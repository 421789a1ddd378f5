"""The worker process: runs InstantNotificationWorkflow and its activities on the task queue."""

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.handover import HandoverActivities
from activities.records import RecordActivities
from core.config import Settings, get_settings
from core.logs import configure_logging
from core.temporal import connect_temporal
from gateways.registry import build_gateways
from store.engine import create_db_engine
from store.migrate import require_current_schema
from workflows.instant_notification import InstantNotificationWorkflow

log = logging.getLogger("worker")


def build_worker(
    client: Client,
    settings: Settings,
    engine: Engine,
    http: httpx.AsyncClient,
    executor: ThreadPoolExecutor,
) -> Worker:
    handover = HandoverActivities(build_gateways(settings, http))
    records = RecordActivities(engine)
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=[InstantNotificationWorkflow],
        activities=[
            handover.hand_over,
            records.record_shipment,
            records.record_transition,
            records.discard_shipment,
        ],
        activity_executor=executor,
    )


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    engine = create_db_engine(settings.database_url)
    require_current_schema(engine)
    client = await connect_temporal(settings)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    async with httpx.AsyncClient() as http:
        with ThreadPoolExecutor(max_workers=32) as executor:
            async with build_worker(client, settings, engine, http, executor):
                log.info(
                    "worker polling %s on %s",
                    settings.temporal_task_queue,
                    settings.temporal_address,
                )
                await stop.wait()
    log.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
