"""The API fuzzed from its own OpenAPI schema: no 5xx, every 4xx a problem document, and the
schema says what the routes do. The API and a worker run as processes of their own here,
because these tests are synchronous and would otherwise stall the in-process stack."""

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from devstack import services
from devstack.processes import free_port
from tests.support.stack import Stack


@schemathesis.check
def problem_document(
    ctx: Any, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> None:
    """Every 4xx is an RFC 9457 problem document that says what was wrong."""
    if 400 <= response.status_code < 500:
        media = response.headers.get("content-type", [""])[0]
        assert media.startswith("application/problem+json"), f"{response.status_code}: {media}"
        body = response.json()
        assert body["status"] == response.status_code
        assert body["title"]


@pytest.fixture(scope="module")
def fuzz_api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings_ = stack.settings.model_copy(
        update={
            "api_port": free_port(),
            "temporal_task_queue": f"fuzz-{uuid.uuid4().hex[:8]}",
        }
    )
    env = services.environment(settings_)
    logs = tmp_path_factory.mktemp("fuzz")
    api, worker = services.api(settings_), services.worker(settings_)
    processes = [
        subprocess.Popen(
            service.command,
            env={**_base_env(), **env},
            stdout=(logs / f"{service.name}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for service in (worker, api)
    ]
    base = f"http://{settings_.api_host}:{settings_.api_port}"
    _wait_healthy(base)
    yield base
    for process in processes:
        process.terminate()
        process.wait(timeout=20)


def _base_env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _wait_healthy(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the fuzzing API did not become healthy")


OPERATIONS = [
    "POST /notifications/api/v1/future/orders/instant/sms",
    "POST /notifications/api/v1/future/orders/instant/email",
    "POST /notifications/api/v1/future/orders/instant",
    "GET /notifications/api/v1/future/shipment/feed",
    "GET /notifications/api/v1/future/shipment/{shipment_id}",
    "POST /notifications/api/v1/delivery-reports/{provider}",
    "POST /notifications/api/v1/future/webhooks",
    "GET /notifications/api/v1/future/webhooks",
    "GET /notifications/api/v1/future/webhooks/{subscription_id}",
    "DELETE /notifications/api/v1/future/webhooks/{subscription_id}",
    "POST /notifications/api/v1/future/webhooks/{subscription_id}/rotate-secret",
    "GET /notifications/api/v1/future/webhooks/{subscription_id}/deliveries",
    "POST /notifications/api/v1/future/webhooks/{subscription_id}/deliveries/{delivery_id}/retry",
    "GET /health",
    "GET /health/live",
    "GET /health/ready",
    "GET /metrics",
]


@pytest.fixture(scope="module")
def api_schema(fuzz_api: str) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_api}/openapi.json")


def test_every_operation_is_fuzzed(api_schema: Any) -> None:
    assert sorted(r.ok().label for r in api_schema.get_all_operations()) == sorted(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_keeps_its_contract(api_schema: Any, stack: Stack, label: str) -> None:
    operation = api_schema.find_operation_by_label(label)
    headers = stack.headers(f"fz{uuid.uuid4().hex[:8]}")

    @given(case=operation.as_strategy())
    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def keeps_contract(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(
            headers=headers,
            # Schema-valid data may still be refused: a phone number must be valid for its
            # country, which no JSON Schema can say; refusing it is right, so this check is off.
            excluded_checks=[positive_data_acceptance],
        )

    keeps_contract()
