"""The spans of the tests of traces; and no `temporal` CLI profile file of whoever runs the
connection tests."""

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support import spans as recorded


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """Spans finished during the test (the provider is installed by tests/conftest.py)."""
    recorded.EXPORTER.clear()
    return recorded.EXPORTER


@pytest.fixture(autouse=True)
def no_profile_file(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection tests read only what they set: not the `temporal` CLI's default profile
    file of whoever runs them (`$XDG_CONFIG_HOME/temporalio/temporal.toml`)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
