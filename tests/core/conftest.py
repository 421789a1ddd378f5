"""An in-memory span exporter behind this process's tracer provider, for the tests of traces;
and no `temporal` CLI profile file of whoever runs the connection tests."""

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_exporter = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(_exporter))


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """Spans finished during the test. The API, the worker and their clients took the global
    (proxy) tracer at start; installing the provider now makes all of them record."""
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(_provider)
    assert trace.get_tracer_provider() is _provider, "another test installed a tracer provider"
    _exporter.clear()
    return _exporter


@pytest.fixture(autouse=True)
def no_profile_file(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection tests read only what they set: not the `temporal` CLI's default profile
    file of whoever runs them (`$XDG_CONFIG_HOME/temporalio/temporal.toml`)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
