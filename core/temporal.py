"""The one Temporal client factory used by the API, the worker and the tools."""

import dataclasses

from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime

from core.codec import EncryptionCodec, parse_keyring
from core.config import Settings


def data_converter(settings: Settings) -> DataConverter:
    """With PAYLOAD_ENCRYPTION_KEY set, every payload is sealed before it leaves the process."""
    keyring = parse_keyring(settings.payload_encryption_key)
    if not keyring:
        return DataConverter.default
    return dataclasses.replace(DataConverter.default, payload_codec=EncryptionCodec(keyring))


async def connect_temporal(
    settings: Settings, *, lazy: bool = False, runtime: Runtime | None = None
) -> Client:
    """`lazy` lets the API start while Temporal is down; calls then fail until it is back.

    The tracing interceptor carries the caller's trace into workflows and activities; the SDK
    applies a client's interceptors to every worker made with it, so workers add none.
    """
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        lazy=lazy,
        interceptors=[TracingInterceptor()],
        runtime=runtime,
    )
