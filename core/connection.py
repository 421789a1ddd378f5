"""The Temporal connection, read as the `temporal` CLI reads it (`temporalio.envconfig`): the
TEMPORAL_* variables over an optional TOML profile, checked so that a setting that cannot work
is named before any connection is tried."""

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from dotenv import dotenv_values
from temporalio.envconfig import (
    ClientConfigProfile,
    ClientConfigTLS,
    ClientConnectConfig,
    DataSource,
)

DEFAULT_ADDRESS = "127.0.0.1:7233"
DEFAULT_NAMESPACE = "default"
META_PREFIX = "TEMPORAL_GRPC_META_"
# Every name envconfig reads (the CODEC ones only the CLI uses), plus META_PREFIX headers.
VARIABLES = frozenset(
    {
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "TEMPORAL_API_KEY",
        "TEMPORAL_TLS",
        "TEMPORAL_TLS_CLIENT_CERT_PATH",
        "TEMPORAL_TLS_CLIENT_CERT_DATA",
        "TEMPORAL_TLS_CLIENT_KEY_PATH",
        "TEMPORAL_TLS_CLIENT_KEY_DATA",
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
        "TEMPORAL_TLS_SERVER_CA_CERT_DATA",
        "TEMPORAL_TLS_SERVER_NAME",
        "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION",
        "TEMPORAL_PROFILE",
        "TEMPORAL_CONFIG_FILE",
        "TEMPORAL_CODEC_ENDPOINT",
        "TEMPORAL_CODEC_AUTH",
    }
)
_BOOLEANS = {"true", "false", "1", "0"}
# (path variable, data variable) of each TLS source, by its field in ClientConfigTLS.
_SOURCES = {
    "server_root_ca_cert": ("TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_DATA"),
    "client_cert": ("TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_CERT_DATA"),
    "client_private_key": ("TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_CLIENT_KEY_DATA"),
}


class ConnectionSettingsError(ValueError):
    """A connection setting that cannot work; the message names it."""


def is_connection_variable(name: str) -> bool:
    return name in VARIABLES or name.startswith(META_PREFIX)


def load_connection(environ: Mapping[str, str] | None = None) -> ClientConfigProfile:
    """The profile of `environ` (by default this process's environment and the connection lines
    of `.env`), with a local dev server's address and the default namespace where none is set."""
    env = dict(environ) if environ is not None else process_environment()
    _check_variables(env)
    try:
        profile = ClientConfigProfile.load(override_env_vars=env)
    except RuntimeError as exc:  # the SDK's ConfigError: a missing profile, a broken file
        # Its first line says what and where; the lines after it quote the file, which may be
        # a line holding the API key or a private key.
        reason = str(exc).partition("\n")[0]
        named = f"TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE: {reason}"
        raise ConnectionSettingsError(named) from None
    return replace(
        profile,
        address=profile.address or DEFAULT_ADDRESS,
        namespace=profile.namespace or DEFAULT_NAMESPACE,
    )


def plain_connection(address: str, namespace: str = DEFAULT_NAMESPACE) -> ClientConfigProfile:
    """A connection without TLS or credentials: a local dev server."""
    return ClientConfigProfile(address=address, namespace=namespace)


def connection_environment(profile: ClientConfigProfile) -> dict[str, str]:
    """The profile as the variables a child process reads back with `load_connection`, and
    nothing else: no profile file (a developer's default profile, say) adds to it."""
    env = {f"{META_PREFIX}{k.upper().replace('-', '_')}": v for k, v in profile.grpc_meta.items()}
    env["TEMPORAL_CONFIG_FILE"] = os.devnull
    env["TEMPORAL_ADDRESS"] = profile.address or DEFAULT_ADDRESS
    env["TEMPORAL_NAMESPACE"] = profile.namespace or DEFAULT_NAMESPACE
    if profile.api_key is not None:
        env["TEMPORAL_API_KEY"] = profile.api_key
    tls = profile.tls
    if tls is None:
        return env
    if tls.disabled is not None:
        env["TEMPORAL_TLS"] = str(not tls.disabled).lower()
    if tls.server_name:
        env["TEMPORAL_TLS_SERVER_NAME"] = tls.server_name
    for field, (path_name, data_name) in _SOURCES.items():
        source: DataSource | None = getattr(tls, field)
        if isinstance(source, Path):
            env[path_name] = str(source)
        elif source is not None:
            env[data_name] = source if isinstance(source, str) else source.decode()
    return env


def connect_config(
    profile: ClientConfigProfile, *, production: bool = False
) -> ClientConnectConfig:
    """The arguments of `Client.connect`, once every TLS file has been read and parsed.

    In production a credential (an API key, a bearer token in gRPC metadata) goes over TLS
    only: it is sent with every call, beside the workflow ids (which hold the tenants' keys)
    and the search attributes."""
    plain = profile.tls is not None and profile.tls.disabled is True
    bearer = any(name.lower() == "authorization" for name in profile.grpc_meta)
    if production and plain and (profile.api_key or bearer):
        named = "TEMPORAL_API_KEY" if profile.api_key else f"{META_PREFIX}AUTHORIZATION"
        raise ConnectionSettingsError(
            f"{named} with TEMPORAL_TLS=false: the credential would cross the network in "
            "clear with every call; in production it needs TLS"
        )
    if profile.tls is not None and not plain:
        _check_tls(profile.tls)
    return profile.to_client_connect_config()


def process_environment() -> dict[str, str]:
    """This process's environment over the connection lines of `.env`."""
    dotenv = dotenv_values(".env") if Path(".env").is_file() else {}
    lines = {k: v for k, v in dotenv.items() if v is not None and is_connection_variable(k)}
    return {**lines, **os.environ}


def _check_variables(env: Mapping[str, str]) -> None:
    config_file = env.get("TEMPORAL_CONFIG_FILE")
    if config_file and not Path(config_file).exists():
        raise ConnectionSettingsError(f"TEMPORAL_CONFIG_FILE: no such file {config_file!r}")
    for name in ("TEMPORAL_TLS", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"):
        if name in env and env[name].lower() not in _BOOLEANS:
            raise ConnectionSettingsError(f"{name} must be true or false, not {env[name]!r}")
    if env.get("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "").lower() in ("true", "1"):
        raise ConnectionSettingsError(
            "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: the Python SDK always verifies the server; "
            "set TEMPORAL_TLS_SERVER_NAME to a name its certificate carries instead"
        )


def _check_tls(tls: ClientConfigTLS) -> None:
    if (tls.client_cert is None) != (tls.client_private_key is None):
        raise ConnectionSettingsError(
            "mutual TLS needs both TEMPORAL_TLS_CLIENT_CERT_PATH and "
            "TEMPORAL_TLS_CLIENT_KEY_PATH (or their _DATA forms); only one is set"
        )
    for field, names in _SOURCES.items():
        source: DataSource | None = getattr(tls, field)
        if source is None:
            continue
        name = names[0] if isinstance(source, Path) else names[1]
        _parse_pem(name, _read(name, source), key=field == "client_private_key")


def _read(name: str, source: DataSource) -> bytes:
    if isinstance(source, Path):
        try:
            return source.read_bytes()
        except OSError as exc:
            raise ConnectionSettingsError(f"{name}: cannot read {str(source)!r}: {exc}") from exc
    return source.encode() if isinstance(source, str) else source


def _parse_pem(name: str, data: bytes, *, key: bool) -> None:
    try:
        if key:
            load_pem_private_key(data, password=None)
        else:
            x509.load_pem_x509_certificates(data)
    except (ValueError, TypeError) as exc:
        what = "an unencrypted PEM private key" if key else "PEM certificates"
        raise ConnectionSettingsError(f"{name} does not hold {what}: {exc}") from exc
