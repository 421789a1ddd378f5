"""`make run` encrypts by default: a development key made once and kept, the dev server's UI
pointed at the codec route, and the codec open to that UI's origin."""

import stat
from pathlib import Path

import pytest

from core.codec import parse_keyring
from core.config import Settings
from devstack import services
from devstack.local import KEY_FILE, local_connection, local_settings
from devstack.scratch import scratch_connection


def settings_in(data: Path, **values: object) -> Settings:
    return Settings(_env_file=None, temporal_db_file=str(data / "temporal.sqlite"), **values)  # type: ignore[call-arg, arg-type]


def test_the_development_key_is_made_once_and_kept(tmp_path: Path) -> None:
    first = local_settings(settings_in(tmp_path))
    again = local_settings(settings_in(tmp_path))

    key_file = tmp_path / KEY_FILE
    assert parse_keyring(first.payload_encryption_key)
    assert again.payload_encryption_key == first.payload_encryption_key
    assert key_file.read_text().strip() == first.payload_encryption_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_what_the_developer_sets_is_kept(tmp_path: Path) -> None:
    chosen = settings_in(
        tmp_path, payload_encryption_key="", codec_scope="ops.codec", codec_cors_origins="http://x"
    )

    local = local_settings(chosen)

    assert (local.payload_encryption_key, local.codec_scope) == ("", "ops.codec")
    assert local.codec_origins == ["http://x"]
    assert not (tmp_path / KEY_FILE).exists()


def test_the_ui_decodes_through_the_codec_route_without_a_token(tmp_path: Path) -> None:
    local = local_settings(settings_in(tmp_path, api_port=8123, temporal_ui_port=8234))

    command = services.temporal(local, scratch_connection()).command

    assert command[command.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8123/codec"
    assert command[command.index("--ui-port") + 1] == "8234"
    assert local.codec_scope == ""
    assert local.codec_origins == ["http://127.0.0.1:8234", "http://localhost:8234"]


def test_the_dev_server_listens_where_temporal_address_points(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "localhost:7300")
    monkeypatch.setenv("TEMPORAL_API_KEY", "for-a-cluster")

    connection = local_connection()

    assert (connection.address, connection.api_key, connection.tls) == (
        "127.0.0.1:7300",
        None,
        None,
    )
