"""The worker process refuses to start on a database that its migrations have not reached."""

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import free_port


def test_worker_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
    }

    done = subprocess.run(
        [sys.executable, "-m", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode != 0
    assert "not migrated" in done.stderr
    assert "make migrate" in done.stderr
