"""What the local stack sets for itself, where the developer set nothing: payloads encrypted
with a development key made once under .data/, and the codec open to the dev server's UI,
whose page has no login to take a token from."""

import logging
import os
from pathlib import Path

from temporalio.envconfig import ClientConfigProfile

from core.codec import new_key
from core.config import Settings
from core.connection import (
    is_connection_variable,
    load_connection,
    plain_connection,
    process_environment,
)

log = logging.getLogger("devstack")

KEY_FILE = "payload-encryption.key"


def local_settings(settings: Settings) -> Settings:
    """`make run`'s settings: the development key (kept beside the dev server's state, so
    workflows of an earlier run still decode) and the codec open to the UI."""
    if "payload_encryption_key" in settings.model_fields_set:
        return open_to_ui(settings)
    key = development_key(Path(settings.temporal_db_file).parent)
    return open_to_ui(settings.model_copy(update={"payload_encryption_key": key}))


def open_to_ui(settings: Settings) -> Settings:
    """The codec without a token (unless CODEC_SCOPE is set), for the UI's origin."""
    port = settings.temporal_ui_port
    update: dict[str, str] = {}
    if "codec_scope" not in settings.model_fields_set:
        update["codec_scope"] = ""
    if "codec_cors_origins" not in settings.model_fields_set:
        update["codec_cors_origins"] = f"http://127.0.0.1:{port},http://localhost:{port}"
    return settings.model_copy(update=update)


def development_key(data: Path) -> str:
    path = data / KEY_FILE
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(new_key("dev") + "\n")
        log.info("made a development key for payload encryption: %s", path)
    return path.read_text().strip()


_LOCAL = ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE")


def local_connection() -> ClientConfigProfile:
    """The dev server `make run` starts: on this machine, at the port of TEMPORAL_ADDRESS, in
    TEMPORAL_NAMESPACE. Profiles, TLS and API keys are a cluster's, not the local stack's."""
    env = process_environment()
    ignored = sorted(k for k in env if is_connection_variable(k) and k not in _LOCAL)
    if ignored:
        log.warning("make run starts a plain local dev server; not used: %s", ", ".join(ignored))
    local = {k: env[k] for k in _LOCAL if k in env}
    wanted = load_connection({**local, "TEMPORAL_CONFIG_FILE": os.devnull})
    port = (wanted.address or "").rsplit(":", 1)[-1]
    return plain_connection(f"127.0.0.1:{port}", wanted.namespace or "default")
