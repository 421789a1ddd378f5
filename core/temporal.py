"""The one Temporal client factory used by the API, the worker and the tools."""

from temporalio.client import Client

from core.config import Settings


async def connect_temporal(settings: Settings, *, lazy: bool = False) -> Client:
    """`lazy` lets the API start while Temporal is down; calls then fail until it is back."""
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, lazy=lazy
    )
