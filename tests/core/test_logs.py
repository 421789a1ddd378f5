"""JSON log lines: one object per line, with the trace and span id of the code that logged."""

import io
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from core.logs import JsonLines
from tests.support.answers import shipment_id
from tests.support.bodies import sms_order
from tests.support.polling import completed_manifest, eventually
from tests.support.routes import SMS
from tests.support.stack import Stack, Tenant


@contextmanager
def json_lines(logger_name: str) -> Iterator[io.StringIO]:
    """What `logger_name` logs at INFO while the block runs, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_carries_the_ids_of_the_current_span(spans: InMemorySpanExporter) -> None:
    with json_lines("tests.logs") as stream:
        logging.getLogger("tests.logs").info("outside")
        with trace.get_tracer(__name__).start_as_current_span("inside") as span:
            logging.getLogger("tests.logs").warning("inside %s", "a span")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("tests.logs").exception("failed")

    outside, inside, failed = parsed(stream)
    ids = span.get_span_context()
    assert "trace_id" not in outside
    assert inside["message"] == "inside a span"
    assert inside["level"] == "WARNING"
    assert inside["logger"] == "tests.logs"
    assert inside["trace_id"] == trace.format_trace_id(ids.trace_id)
    assert inside["span_id"] == trace.format_span_id(ids.span_id)
    assert "ValueError: boom" in failed["exception"]


async def test_the_handover_line_carries_the_order_trace_and_no_body(
    stack: Stack, tenant: Tenant, spans: InMemorySpanExporter
) -> None:
    secret = f"code-{uuid.uuid4().hex}"
    with json_lines("activities") as stream:
        response = await stack.api.post(SMS, json=sms_order(body=secret), headers=tenant.headers)
        await completed_manifest(stack.api, tenant.headers, shipment_id(response))

    async def server_span() -> ReadableSpan | None:
        return next((s for s in spans.get_finished_spans() if s.name == f"POST {SMS}"), None)

    server = await eventually(server_span)
    assert server.context is not None
    handover = [e for e in parsed(stream) if e["message"].startswith("handover of")]
    assert len(handover) == 1
    assert handover[0]["trace_id"] == trace.format_trace_id(server.context.trace_id)
    assert secret not in stream.getvalue()
