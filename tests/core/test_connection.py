"""The connection is read with the `temporal` CLI's names (temporalio.envconfig), and a setting
that cannot work is named before any connection is tried."""

import os
from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from core.connect_failures import diagnose
from core.connection import (
    ConnectionSettingsError,
    connect_config,
    connection_environment,
    load_connection,
    plain_connection,
)
from tests.support.certificates import Pki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_nothing_set_is_the_local_dev_server() -> None:
    connection = load_connection({})

    assert (connection.address, connection.namespace) == ("127.0.0.1:7233", "default")
    assert connect_config(connection) == {"target_host": "127.0.0.1:7233", "namespace": "default"}


def test_a_profile_file_is_read_and_the_variables_win(tmp_path: Path) -> None:
    profiles = tmp_path / "temporal.toml"
    profiles.write_text(
        '[profile.cloud]\naddress = "ns.acct.tmprl.cloud:7233"\nnamespace = "ns.acct"\n'
        'api_key = "from-file"\n'
    )
    env = {"TEMPORAL_CONFIG_FILE": str(profiles), "TEMPORAL_PROFILE": "cloud"}

    from_file = load_connection(env)
    overridden = load_connection({**env, "TEMPORAL_API_KEY": "from-env"})

    assert (from_file.address, from_file.namespace) == ("ns.acct.tmprl.cloud:7233", "ns.acct")
    assert connect_config(from_file)["tls"] is True  # an API key turns TLS on
    assert connect_config(overridden)["api_key"] == "from-env"


def test_tls_files_are_read_into_the_connect_arguments(pki: Pki) -> None:
    env = {
        "TEMPORAL_ADDRESS": "temporal.internal:7233",
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca),
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(pki.client_cert),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pki.client_key),
        "TEMPORAL_TLS_SERVER_NAME": "temporal.example",
        "TEMPORAL_GRPC_META_X_TENANT": "ops",
    }

    arguments = connect_config(load_connection(env))

    tls = arguments["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.server_root_ca_cert == pki.ca.read_bytes()
    assert tls.client_cert == pki.client_cert.read_bytes()
    assert tls.client_private_key == pki.client_key.read_bytes()
    assert tls.domain == "temporal.example"
    assert arguments["rpc_metadata"] == {"x-tenant": "ops"}


def test_a_child_reads_back_the_same_connection(pki: Pki) -> None:
    env = {
        "TEMPORAL_ADDRESS": "temporal.internal:7233",
        "TEMPORAL_NAMESPACE": "notifications",
        "TEMPORAL_API_KEY": "key",
        "TEMPORAL_TLS": "true",
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca),
        "TEMPORAL_TLS_SERVER_NAME": "temporal.example",
        "TEMPORAL_GRPC_META_X_TENANT": "ops",
    }

    profile = load_connection(env)

    assert load_connection(connection_environment(profile)) == profile
    assert connection_environment(profile) == {**env, "TEMPORAL_CONFIG_FILE": os.devnull}
    plain = plain_connection("127.0.0.1:7000")
    assert load_connection(connection_environment(plain)) == plain


def test_a_childs_connection_ignores_the_developers_default_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's default file (`$XDG_CONFIG_HOME/temporalio/temporal.toml`) may hold a cloud
    account's profile; a child of the local stack must connect as it was told."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "temporalio").mkdir()
    (tmp_path / "temporalio" / "temporal.toml").write_text(
        '[profile.default]\napi_key = "of-a-cloud-account"\n'
    )

    told = connection_environment(plain_connection("127.0.0.1:7000"))

    assert load_connection({"TEMPORAL_ADDRESS": "127.0.0.1:7000"}).api_key == "of-a-cloud-account"
    assert load_connection(told) == plain_connection("127.0.0.1:7000")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TEMPORAL_CONFIG_FILE": "/nonexistent/temporal.toml"}, "TEMPORAL_CONFIG_FILE"),
        ({"TEMPORAL_PROFILE": "nowhere"}, "TEMPORAL_PROFILE"),
        ({"TEMPORAL_TLS": "yes"}, "TEMPORAL_TLS must be true or false"),
        ({"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION": "true"}, "TEMPORAL_TLS_SERVER_NAME"),
    ],
    ids=["missing-file", "unknown-profile", "vague-tls", "no-host-verification"],
)
def test_settings_that_cannot_work_are_named_when_read(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConnectionSettingsError, match=named):
        load_connection(env)


def test_a_broken_profile_file_is_named_without_quoting_it(tmp_path: Path) -> None:
    """The SDK's error quotes the line it stopped at, here the API key."""
    profiles = tmp_path / "temporal.toml"
    profiles.write_text(
        '[profile.default]\naddress = "cloud:7233"\napi_key = Secret-Key-Of-A-Test\n'
    )

    with pytest.raises(ConnectionSettingsError) as refused:
        load_connection({"TEMPORAL_CONFIG_FILE": str(profiles)})

    assert "line 3" in str(refused.value)
    assert "Secret-Key-Of-A-Test" not in str(refused.value)
    assert refused.value.__cause__ is None


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "/nonexistent/ca.pem"}, "SERVER_CA_CERT_PATH"),
        ({"TEMPORAL_TLS_CLIENT_KEY_PATH": None}, "only one is set"),
        ({"TEMPORAL_TLS_CLIENT_CERT_PATH": "KEY"}, "CLIENT_CERT_PATH does not hold PEM"),
        ({"TEMPORAL_TLS_CLIENT_KEY_PATH": "CA"}, "CLIENT_KEY_PATH does not hold an unencrypted"),
    ],
    ids=["missing-ca", "cert-without-key", "key-as-cert", "cert-as-key"],
)
def test_tls_files_that_cannot_work_are_named_before_connecting(
    pki: Pki, change: dict[str, str | None], named: str
) -> None:
    env: dict[str, str | None] = {
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca),
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(pki.client_cert),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pki.client_key),
    }
    stand_ins = {"KEY": str(pki.client_key), "CA": str(pki.ca)}
    for name, value in change.items():
        env[name] = stand_ins.get(value, value) if value else None
    connection = load_connection({k: v for k, v in env.items() if v is not None})

    with pytest.raises(ConnectionSettingsError, match=named):
        connect_config(connection)


REFUSED = 'ConnectError(ConnectError("tcp connect error", Connection refused))'
CLOSED = "call error after connection: transport error, BrokenPipe"


@pytest.mark.parametrize(
    ("error", "tls", "named", "certain"),
    [
        (REFUSED, False, "unreachable", False),
        ("InvalidCertificate(UnknownIssuer)", True, "TEMPORAL_TLS_SERVER_CA_CERT_PATH", True),
        ("InvalidCertificate(NotValidForNameContext {})", True, "TEMPORAL_TLS_SERVER_NAME", True),
        ("received fatal alert: CertificateRequired", True, "TEMPORAL_TLS_CLIENT_CERT_PATH", True),
        ("ConnectError(H2NotNegotiated)", True, "ALPN h2", True),
        ("InvalidMessage(InvalidContentType)", True, "unset TEMPORAL_TLS", True),
        ("Status { code: Unauthenticated, message: 'x' }", True, "TEMPORAL_API_KEY", True),
        (CLOSED, True, "TEMPORAL_TLS_CLIENT_CERT_PATH", False),
        (CLOSED, False, "TEMPORAL_TLS=true", False),
    ],
)
def test_connect_failures_name_what_to_change(
    error: str, tls: bool, named: str, certain: bool
) -> None:
    connection = load_connection({"TEMPORAL_TLS": str(tls).lower()})

    diagnosis = diagnose(error, connection)

    assert named in diagnosis.hint
    assert diagnosis.misconfigured is certain


def test_the_process_reads_its_environment_over_the_lines_of_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "TEMPORAL_ADDRESS=from-dotenv:7233\nTEMPORAL_NAMESPACE=notifications\nLOG_LEVEL=DEBUG\n"
    )
    monkeypatch.chdir(tmp_path)
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEMPORAL_ADDRESS", "from-environment:7233")

    connection = load_connection()

    assert (connection.address, connection.namespace) == ("from-environment:7233", "notifications")
