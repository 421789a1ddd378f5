"""The API fuzzed from its own OpenAPI schema by the `schemathesis run` command: its coverage
phase (boundary values, every enum member, each JSON type a field must not have, missing and
extra fields) and its fuzzing phase (random positive and negative data) over every operation,
with a fixed seed. Every check runs: no 5xx, responses as documented, every 4xx a problem
document. The API and a worker run as processes of their own, as in production."""

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.apart import served_apart
from tests.support.stack import Stack

SEED = 20260324
# Per operation, for the fuzzing phase; the coverage phase makes as many as the schema asks.
MAX_EXAMPLES = 60
# The stateful phase (create, then read what the links point at) adds about 15 s for what
# tests/api/test_orders.py and test_shipments.py check already; add it here to run it.
PHASES = ("examples", "coverage", "fuzzing")
ROOT = Path(__file__).resolve().parents[2]

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
    "POST /codec/decode",
    "POST /codec/encode",
]
# The probes, the scrape and the list of subscriptions take nothing but the method, headers
# and path.
WITH_INPUT = [
    label
    for label in OPERATIONS
    if not label.startswith(("GET /health", "GET /metrics"))
    and label != "GET /notifications/api/v1/future/webhooks"
]
# A single string in the path: the coverage phase knows fewer ways to vary it.
ONLY_AN_ID = "DELETE /notifications/api/v1/future/webhooks/{subscription_id}"


@dataclass(frozen=True)
class FuzzRun:
    exit_code: int
    output: str
    # (operation, phase) -> how many requests were made
    cases: Counter[tuple[str, str]]
    failed: list[str]


@pytest.fixture(scope="module")
def fuzz_api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_apart(stack, tmp_path_factory.mktemp("fuzz")) as base:
        yield base


def schemathesis_command(base: str, authorization: str, report: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base}/openapi.json",
        "--phases",
        ",".join(PHASES),
        "--checks",
        "all",
        # Schema-valid data may still be refused: a phone number must be valid for its
        # country, which no JSON Schema can say; refusing it is right, so this check is off.
        "--exclude-checks",
        "positive_data_acceptance",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-database",
        "none",
        "--header",
        f"Authorization: {authorization}",
        "--request-timeout",
        "30",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        "--no-color",
    ]


@pytest.fixture(scope="module")
def fuzz_run(fuzz_api: str, stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> FuzzRun:
    # Its own directory: schemathesis keeps a cache of past failures in the working directory
    # and replays them first, so a run would depend on the runs before it.
    workdir = tmp_path_factory.mktemp("schemathesis")
    report = workdir / "events.ndjson"
    # A token that may order and use the codec, so that both get past authentication.
    scopes = f"{stack.settings.auth_scope} {stack.settings.codec_scope}"
    authorization = stack.headers(f"fz{uuid.uuid4().hex[:8]}", scopes)["Authorization"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCHEMATHESIS_HOOKS": "tests.api.fuzz_checks"}
    result = subprocess.run(
        schemathesis_command(fuzz_api, authorization, report),
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    cases: Counter[tuple[str, str]] = Counter()
    failed: list[str] = []
    for line in report.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if finished is None:
            continue
        label = finished["recorder"]["label"]
        cases[(label, finished["phase"])] += len(finished["recorder"].get("cases", {}))
        if finished["status"] not in ("success", "skip"):
            failed.append(f"{finished['phase']}: {label}: {finished['status']}")
    return FuzzRun(result.returncode, result.stdout + result.stderr, cases, failed)


def test_every_operation_of_the_schema_is_fuzzed(fuzz_api: str, fuzz_run: FuzzRun) -> None:
    document = httpx.get(f"{fuzz_api}/openapi.json").json()
    in_schema = sorted(
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
    )
    assert in_schema == sorted(OPERATIONS)
    for phase in ("coverage", "fuzzing"):
        fuzzed = sorted(
            label for (label, in_phase), n in fuzz_run.cases.items() if in_phase == phase and n
        )
        assert fuzzed == in_schema, phase


def test_the_coverage_phase_tries_each_input_several_ways(fuzz_run: FuzzRun) -> None:
    for label in WITH_INPUT:
        assert fuzz_run.cases[(label, "coverage")] >= (3 if label == ONLY_AN_ID else 5), label


def test_operations_with_input_get_the_whole_fuzzing_budget(fuzz_run: FuzzRun) -> None:
    for label in WITH_INPUT:
        assert fuzz_run.cases[(label, "fuzzing")] >= MAX_EXAMPLES, label


def test_every_check_passes(fuzz_run: FuzzRun) -> None:
    assert fuzz_run.failed == [], fuzz_run.output[-20_000:]
    assert fuzz_run.exit_code == 0, fuzz_run.output[-20_000:]
