"""The one Temporal client factory used by the API, the worker and the tools."""

from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.runtime import Runtime
from temporalio.worker import Interceptor

from core.config import Settings


async def connect_temporal(
    settings: Settings, *, lazy: bool = False, runtime: Runtime | None = None
) -> Client:
    """`lazy` lets the API start while Temporal is down; calls then fail until it is back.

    The tracing interceptor carries the caller's trace into workflows and activities; a
    worker made with this client applies it too.
    """
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        lazy=lazy,
        interceptors=[TracingInterceptor()],
        runtime=runtime,
    )


def worker_interceptors(client: Client) -> list[Interceptor]:
    """Tracing for a worker whose client does not bring it already (applying it twice would
    make every span twice)."""
    if any(isinstance(i, TracingInterceptor) for i in client.config()["interceptors"]):
        return []
    return [TracingInterceptor()]
