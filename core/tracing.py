"""Traces: OpenTelemetry spans, exported by OTLP/HTTP only when an endpoint is configured."""

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from core.config import Settings


def tracing_on() -> bool:
    """Whether this process makes trace ids at all: a tracer provider is installed (by
    `configure_tracing`, or by whoever embeds the API or the worker). When none is, nothing is
    instrumented: no-op spans still cost every order milliseconds of CPU across the API and
    the worker."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def configure_tracing(settings: Settings, service: str) -> None:
    """Install this process's tracer provider, once.

    With an OTLP endpoint, spans are recorded and exported in batches. With JSON logs alone,
    trace and span ids are still made and propagated (so log lines of one order share an id)
    but no span is recorded. With neither, OpenTelemetry's no-op provider stays in place.
    """
    if tracing_on():
        return  # already installed in this process
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint and settings.log_format != "json":
        return
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, win over our default name.
    resource = Resource.create({SERVICE_NAME: service}).merge(OTELResourceDetector().detect())
    if endpoint:
        provider = TracerProvider(resource=resource)
        exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    else:
        provider = TracerProvider(resource=resource, sampler=ALWAYS_OFF)
    trace.set_tracer_provider(provider)


def shutdown_tracing() -> None:
    """Export the spans still queued; for processes that end without running atexit hooks."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()


def current_ids() -> tuple[str, str] | None:
    """The trace and span id of the current span in W3C hex form, or None outside a trace."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)
