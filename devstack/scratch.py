"""A throwaway local stack on free ports, for the tools and tests that drive real orders."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile

from core.codec import new_key
from core.config import Settings
from core.connection import plain_connection
from core.temporal import connect_temporal
from devstack import services
from devstack.processes import ProcessGroup, free_port


def scratch_settings(data: Path, **overrides: Any) -> Settings:
    """Settings of a stack whose every port is free, whose store lives in `data` and whose
    task queue is its own, so that it runs beside any other stack on the machine. Its payloads
    are encrypted with a key of its own, as in every real deployment."""
    values: dict[str, Any] = {
        "temporal_ui_port": free_port(),
        "temporal_task_queue": f"instant-{uuid.uuid4().hex[:8]}",
        "api_port": free_port(),
        "simulator_url": f"http://127.0.0.1:{free_port()}",
        "simulator_smtp_port": free_port(),
        "simulator2_url": f"http://127.0.0.1:{free_port()}",
        "simulator2_smtp_port": free_port(),
        "worker_metrics_port": free_port(),
        "worker_sdk_metrics_port": free_port(),
        "database_url": f"sqlite:///{data / 'store.sqlite'}",
        "log_level": "WARNING",
        "payload_encryption_key": new_key("scratch"),
        # A throwaway stack removes nothing on its own: its tests and measurements decide.
        "retention_days": 0,
        **overrides,
    }
    values.setdefault("public_base_url", f"http://127.0.0.1:{values['api_port']}")
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def scratch_connection() -> ClientConfigProfile:
    """A dev server of its own, on a free port."""
    return plain_connection(f"127.0.0.1:{free_port()}")


@asynccontextmanager
async def scratch_stack(
    settings: Settings,
    connection: ClientConfigProfile,
    *,
    ui: bool = False,
    simulator_env: dict[str, str] | None = None,
    db_file: str | None = None,
    group: ProcessGroup | None = None,
) -> AsyncIterator[Client]:
    """The whole stack of `settings` (services.start_stack); a caller that passes `group` can
    reach the processes and add its own.

    Yields a client once the worker polls, so the first order does not wait for it.
    """
    group = group or ProcessGroup(echo=False)
    try:
        await services.start_stack(
            group, settings, connection, ui=ui, db_file=db_file, simulator_env=simulator_env
        )
        client = await connect_temporal(settings, connection)
        await worker_polling(client, settings.temporal_task_queue)
        yield client
    finally:
        await group.stop_all()


async def worker_polling(client: Client, task_queue: str, within: float = 30.0) -> None:
    """Wait until a worker polls `task_queue`."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    deadline = asyncio.get_running_loop().time() + within
    while not (await client.workflow_service.describe_task_queue(request)).pollers:
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError("the worker did not start polling")
        await asyncio.sleep(0.1)
