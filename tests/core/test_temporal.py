"""The client factory against a real Temporal behind a real TLS terminator (HAProxy): the
worker and the API connect by the `temporal` CLI's variables, plain, with TLS and with mutual
TLS, and an order completes; settings that cannot work stop them at start, named."""

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from core.connection import ConnectionSettingsError, is_connection_variable, load_connection
from core.temporal import TemporalConnectionError, connect_temporal
from devstack import services
from devstack.processes import ProcessGroup, Service, free_port
from devstack.scratch import worker_polling
from tests.support.answers import shipment_id
from tests.support.bodies import sms_order
from tests.support.certificates import Pki, make_pki
from tests.support.inprocess import api_for
from tests.support.polling import final_status
from tests.support.routes import SMS
from tests.support.stack import Stack, Tenant
from tests.support.tls_terminator import Terminator, tls_terminator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
async def terminator(
    stack: Stack, pki: Pki, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Terminator]:
    backend = stack.connection.address
    assert backend is not None
    async with tls_terminator(backend, pki, tmp_path_factory.mktemp("haproxy")) as running:
        yield running


def variables(kind: str, stack: Stack, terminator: Terminator, pki: Pki) -> dict[str, str]:
    """The connection of each kind, in the variables an operator sets."""
    if kind == "plain":
        return {"TEMPORAL_ADDRESS": str(stack.connection.address)}
    names = {"TEMPORAL_TLS": "true", "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca)}
    if kind == "tls":
        return {**names, "TEMPORAL_ADDRESS": terminator.tls}
    return {
        **names,
        "TEMPORAL_ADDRESS": terminator.mutual,
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(pki.client_cert),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pki.client_key),
    }


@contextlib.asynccontextmanager
async def worker_and_api(
    stack: Stack, names: dict[str, str], log: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """`python -m worker` and the API under uvicorn, on a task queue of their own, with
    `names` as their only Temporal connection settings."""
    settings = stack.settings.model_copy(
        update={
            "api_port": free_port(),
            "temporal_task_queue": f"tls-{uuid.uuid4().hex[:8]}",
            "worker_metrics_port": 0,
            "worker_sdk_metrics_port": 0,
        }
    )
    group = ProcessGroup(sink=log.open("wb"))
    try:
        for service in (services.worker, services.api):
            await group.start(with_connection(service(settings, stack.connection), names))
        await worker_polling(stack.client, settings.temporal_task_queue)
        async with httpx.AsyncClient(base_url=settings.api_url, timeout=30) as api:
            yield api
    finally:
        await group.stop_all()


def with_connection(service: Service, names: dict[str, str]) -> Service:
    """The service with `names` as the only connection variables of its environment."""
    env = {k: v for k, v in service.env.items() if not is_connection_variable(k)}
    return dataclasses.replace(service, env={**env, **names})


async def test_worker_and_api_connect_by_the_cli_variables_and_orders_complete(
    stack: Stack, tenant: Tenant, terminator: Terminator, pki: Pki, tmp_path: Path
) -> None:
    """Plain, TLS and mutual TLS side by side: a worker and an API process for each."""

    async def order_through(kind: str) -> str:
        names = variables(kind, stack, terminator, pki)
        async with worker_and_api(stack, names, tmp_path / f"{kind}.log") as api:
            placed = await api.post(SMS, json=sms_order(), headers=tenant.headers)
            assert placed.status_code == 201, f"{kind}: {placed.text}"
            return await final_status(api, tenant.headers, shipment_id(placed))

    kinds = ["plain", "tls", "mtls"]
    statuses = await asyncio.gather(*(order_through(kind) for kind in kinds))

    assert dict(zip(kinds, statuses, strict=True)) == dict.fromkeys(kinds, "SMS_Delivered")


async def test_a_missing_client_certificate_stops_the_worker_and_names_the_setting(
    stack: Stack, terminator: Terminator, pki: Pki
) -> None:
    names = variables("mtls", stack, terminator, pki)
    del names["TEMPORAL_TLS_CLIENT_CERT_PATH"], names["TEMPORAL_TLS_CLIENT_KEY_PATH"]
    worker = with_connection(services.worker(stack.settings, stack.connection), names)

    process = await asyncio.create_subprocess_exec(
        *worker.command,
        cwd=ROOT,
        env={**worker.env, "WORKER_METRICS_PORT": "0", "WORKER_SDK_METRICS_PORT": "0"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 1
    assert b"the worker cannot start" in output
    assert b"TEMPORAL_TLS_CLIENT_CERT_PATH" in output


async def test_a_wrong_ca_stops_the_api_and_names_the_setting(
    stack: Stack, terminator: Terminator, pki: Pki
) -> None:
    names = {
        **variables("tls", stack, terminator, pki),
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.other_ca),
    }

    with pytest.raises(TemporalConnectionError, match="TEMPORAL_TLS_SERVER_CA_CERT_PATH"):
        async with api_for(stack.settings, load_connection(names)):
            pass


async def test_the_api_key_reaches_the_server_as_a_bearer_token(
    stack: Stack, terminator: Terminator, pki: Pki
) -> None:
    """The terminator admits a call only with `authorization: Bearer <key>`; TEMPORAL_API_KEY
    turns TLS on by itself."""
    names = {
        "TEMPORAL_ADDRESS": terminator.api_key,
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca),
    }

    client = await connect_temporal(
        stack.settings, load_connection({**names, "TEMPORAL_API_KEY": terminator.key})
    )
    counted = await client.count_workflows()
    with pytest.raises(TemporalConnectionError, match="TEMPORAL_API_KEY"):
        await connect_temporal(
            stack.settings, load_connection({**names, "TEMPORAL_API_KEY": "not-the-key"})
        )

    assert counted.count >= 0


@pytest.mark.parametrize(
    ("name", "value"),
    [("TEMPORAL_API_KEY", "a-key"), ("TEMPORAL_GRPC_META_AUTHORIZATION", "Bearer a-token")],
)
async def test_in_production_a_credential_over_a_plain_connection_stops_the_start(
    stack: Stack, name: str, value: str
) -> None:
    """The credential is sent with every call: in clear, anyone on the path could take it. A
    local server without TLS still takes it in development."""
    plain = load_connection(
        {"TEMPORAL_ADDRESS": stack.connection.address or "", name: value, "TEMPORAL_TLS": "false"}
    )
    production = stack.settings.model_copy(update={"environment": "production"})

    client = await connect_temporal(stack.settings, plain)
    with pytest.raises(ConnectionSettingsError, match=name):
        await connect_temporal(production, plain)

    assert (await client.count_workflows()).count >= 0
