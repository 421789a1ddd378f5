"""A report route's `?code=` secret stays out of the access log and the request's span."""

import logging
import uuid

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.responses import Response

from core.logs import configure_logging
from core.query_secrets import HIDDEN, hide_in_span, without_query_secrets
from tests.support.polling import eventually
from tests.support.routes import REPORTS
from tests.support.serving import serving
from tests.support.stack import Stack


async def test_uvicorns_access_log_hides_the_code(caplog: pytest.LogCaptureFixture) -> None:
    marker = uuid.uuid4().hex
    configure_logging("INFO")
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    # No log_config: uvicorn's own would stop its access log from reaching the root logger.
    answer = Response(status_code=204)  # an ASGI app itself
    async with (
        serving(answer, log_config=None, log_level=None, access_log=True) as base,
        httpx.AsyncClient() as client,
    ):
        await client.post(f"{base}/reports/acs?code={marker}&seq=2")

    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/reports/acs?code=[redacted]&seq=2" in line for line in lines), lines
    assert marker not in caplog.text


async def test_the_request_span_hides_the_code(stack: Stack, spans: InMemorySpanExporter) -> None:
    marker = uuid.uuid4().hex

    await stack.api.post(f"{REPORTS}/acs?code={marker}", json=[])

    async def server_span() -> list[str] | None:
        for span in spans.get_finished_spans():
            values = [str(v) for v in (span.attributes or {}).values()]
            if any("/delivery-reports/acs" in v for v in values):
                return values
        return None

    values = await eventually(server_span)
    assert any("acs?code=[redacted]" in value for value in values), values
    assert not any(marker in value for value in values)


@pytest.mark.parametrize(
    "query",
    ["code=S3CR3T", "x=1&code=S3CR3T&y=2", "%63ode=S3CR3T", "Code=S3CR3T", "code=ab%26S3CR3T"],
)
def test_the_secret_is_hidden_however_it_is_written(query: str) -> None:
    hidden = without_query_secrets(f"/reports/acs?{query}")

    assert "S3CR3T" not in hidden
    assert hidden.count(HIDDEN) == 1


def test_a_span_in_the_stable_conventions_is_rebuilt_from_the_query_as_it_came() -> None:
    """OpenTelemetry decodes the query: a secret's `%26` would read as a second parameter."""
    raw = "seq=2&code=ab%26S3CR3T"
    decoded = "seq=2&code=ab&S3CR3T"
    with TracerProvider().get_tracer("test").start_as_current_span("request") as span:
        span.set_attributes({"url.full": f"http://api/reports/acs?{decoded}", "url.query": decoded})
        hide_in_span(span, {"query_string": raw.encode()})
        assert isinstance(span, ReadableSpan)
        attributes = dict(span.attributes or {})

    assert attributes["url.full"] == f"http://api/reports/acs?seq=2&code={HIDDEN}"
    assert attributes["url.query"] == f"seq=2&code={HIDDEN}"
