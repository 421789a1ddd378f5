"""The one Temporal client factory used by the API, the worker and the tools."""

import dataclasses
import logging

from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.envconfig import ClientConfigProfile
from temporalio.runtime import Runtime
from temporalio.service import RPCError

from core.codec import EncryptionCodec, parse_keyring
from core.config import Settings
from core.connect_failures import describe, diagnose
from core.connection import connect_config, load_connection
from core.payloads import PayloadConverter
from core.tracing import tracing_on

log = logging.getLogger(__name__)

# Connection attempts at start while the failure is ambiguous (core/connect_failures.py).
_ATTEMPTS = 8


class TemporalConnectionError(RuntimeError):
    """Temporal could not be reached with these settings; the message names what to change."""


def data_converter(settings: Settings) -> DataConverter:
    """Payloads as JSON through pydantic (core/payloads.py). With PAYLOAD_ENCRYPTION_KEY set,
    every payload is sealed before it leaves the process, and so are failure messages and
    stack traces (a gateway's words can end up in them)."""
    plain = DataConverter(payload_converter_class=PayloadConverter)
    keyring = parse_keyring(settings.payload_encryption_key)
    if not keyring:
        return plain
    return dataclasses.replace(
        plain,
        payload_codec=EncryptionCodec(keyring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect_temporal(
    settings: Settings,
    connection: ClientConfigProfile | None = None,
    *,
    lazy: bool = False,
    runtime: Runtime | None = None,
) -> Client:
    """A client for `connection` (by default the process's TEMPORAL_* variables and profile).

    Settings that cannot work (a refused certificate, a missing client certificate, a refused
    API key) raise TemporalConnectionError at once. `lazy` lets the API start while Temporal is
    unreachable; its calls then fail until Temporal is back.

    The tracing interceptor carries the caller's trace into workflows and activities, where this
    process makes traces (`configure_tracing` first); the SDK applies a client's interceptors
    to every worker made with it, so workers add none.
    """
    connection = connection or load_connection()
    for _ in range(_ATTEMPTS):
        try:
            return await _connect(settings, connection, lazy=False, runtime=runtime)
        except (RuntimeError, RPCError) as exc:
            error = str(exc)
        if not diagnose(error, connection).ask_again:
            break
    failure = describe(error, connection)
    if not lazy or diagnose(error, connection).misconfigured:
        raise TemporalConnectionError(failure)
    log.warning("%s; starting anyway, calls fail until it answers", failure)
    return await _connect(settings, connection, lazy=True, runtime=runtime)


async def _connect(
    settings: Settings, connection: ClientConfigProfile, *, lazy: bool, runtime: Runtime | None
) -> Client:
    return await Client.connect(
        **connect_config(connection, production=settings.environment == "production"),
        data_converter=data_converter(settings),
        lazy=lazy,
        interceptors=[TracingInterceptor()] if tracing_on() else [],
        runtime=runtime,
    )
