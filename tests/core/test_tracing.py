"""One order is one trace: HTTP request, workflow, handover activity and gateway call; and a
process that makes no traces pays nothing for them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from domain.ids import workflow_id
from tests.support.bodies import sms_order
from tests.support.polling import eventually
from tests.support.routes import SMS
from tests.support.stack import Stack, Tenant

SERVER_SPAN = f"POST {SMS}"


def _chain(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    """Names from `span` up through its parents, as far as they were recorded."""
    names = [span.name]
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


async def test_one_order_yields_one_trace_from_request_to_gateway(
    stack: Stack, tenant: Tenant, spans: InMemorySpanExporter
) -> None:
    order = sms_order()
    response = await stack.api.post(SMS, json=order, headers=tenant.headers)
    assert response.status_code == 201

    async def finished() -> list[ReadableSpan] | None:
        done = list(spans.get_finished_spans())
        return done if any(s.name == SERVER_SPAN for s in done) else None

    finished_spans = await eventually(finished)
    server = next(s for s in finished_spans if s.name == SERVER_SPAN)
    assert server.kind is SpanKind.SERVER
    assert server.context is not None
    trace_id = server.context.trace_id
    ours = [s for s in finished_spans if s.context is not None and s.context.trace_id == trace_id]
    by_id = {s.context.span_id: s for s in ours if s.context is not None}
    names = {s.name for s in ours}

    assert {
        "StartUpdateWithStartWorkflow:InstantNotificationWorkflow",
        "RunWorkflow:InstantNotificationWorkflow",
        "HandleUpdate:handover",
        "StartActivity:hand_over",
        "RunActivity:hand_over",
        "send SMS via simulator",
    } <= names
    run_workflow = next(s for s in ours if s.name.startswith("RunWorkflow:"))
    assert run_workflow.attributes is not None
    assert run_workflow.attributes["temporalWorkflowID"] == workflow_id(
        tenant.org, order["idempotencyId"]
    )
    gateway_call = next(s for s in ours if s.kind is SpanKind.CLIENT and s.name == "POST")
    assert gateway_call.attributes is not None
    # The attribute's name depends on the semantic-conventions version the library emits.
    url = gateway_call.attributes.get("url.full") or gateway_call.attributes.get("http.url")
    assert str(url).endswith("/sms")
    assert _chain(gateway_call, by_id) == [
        "POST",
        "send SMS via simulator",
        "RunActivity:hand_over",
        "StartActivity:hand_over",
        "StartUpdateWithStartWorkflow:InstantNotificationWorkflow",
        SERVER_SPAN,
    ]
    # The SDK's workflow spans are instants beside each other under the client's span.
    assert _chain(run_workflow, by_id)[1:] == [
        "StartUpdateWithStartWorkflow:InstantNotificationWorkflow",
        SERVER_SPAN,
    ]


_INSTRUMENTED = """
import json, sys
from api.main import create_app
from core.config import Settings
from core.tracing import tracing_on

app = create_app(Settings(log_format=sys.argv[1]))
print(json.dumps([tracing_on(), getattr(app, "_is_instrumented_by_opentelemetry", False)]))
"""


@pytest.mark.parametrize(("log_format", "expected"), [("text", False), ("json", True)])
def test_a_process_that_makes_no_traces_instruments_nothing(
    log_format: str, expected: bool
) -> None:
    # A process of its own: this one has the tests' tracer provider installed.
    ran = subprocess.run(
        [sys.executable, "-c", _INSTRUMENTED, log_format],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": ""},
    )

    assert json.loads(ran.stdout.splitlines()[-1]) == [expected, expected]
