import shutil
import subprocess
from pathlib import Path

import pytest

from bench import machine


def test_cpu_model_is_the_first_processors_name(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7B13\n\n"
        "processor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
    )
    assert machine.cpu_model(cpuinfo) == "AMD EPYC 7B13"
    assert machine.cpu_model(tmp_path / "absent") is None


@pytest.mark.skipif(shutil.which("lscpu") is None, reason="lscpu is not installed")
def test_cpu_model_agrees_with_lscpu() -> None:
    listed = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    names = [
        line.split(":", 1)[1].strip()
        for line in listed.splitlines()
        if line.startswith("Model name")
    ]
    assert names, "lscpu names no model"
    assert machine.describe()["cpu_model"] == names[0]
