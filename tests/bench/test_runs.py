"""Several runs side by side: each run's figures read from its file as `make bench` writes it,
and each figure's median over the runs that have it."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.runs import figures, lines, medians

ROOT = Path(__file__).parents[2]
RESULTS = ROOT / "bench" / "results"


def _engine(
    knee: float, cpu: tuple[float, float], alone: tuple[float, float] | None
) -> dict[str, Any]:
    """An engine section with the measures `compare` writes, the service's knee `knee` times
    the engine's and its p50 at 5 req/s 12.5 ms above; `alone` None is an older run's."""
    section: dict[str, Any] = {
        "knee": {"service": {"knee_rps": knee * 25}, "engine": {"knee_rps": 25.0}},
        "at_5_rps": {"service": {"p50_ms": 42.5}, "engine": {"p50_ms": 30.0}},
        "cpu": {
            "service": {"cpu_ms_per_order": {"total": cpu[0]}},
            "engine": {"cpu_ms_per_order": {"total": cpu[1]}},
        },
    }
    if alone is not None:
        section["one_at_a_time"] = {"service": {"p50_ms": alone[0]}, "engine": {"p50_ms": alone[1]}}
    return section


def test_a_runs_figures_are_its_ratios_and_differences() -> None:
    found = figures(_engine(0.64, (120.0, 84.0), (43.5, 29.1)))

    assert found == {
        "knee": 0.64,
        "CPU": 0.7,
        "p50 at 5/s": 12.5,
        "p50 alone": 14.4,
        "p50x at 5/s": 1.42,
        "p50x alone": 1.49,
    }


def test_a_figure_an_older_run_lacks_is_left_out_of_its_median() -> None:
    runs = {
        "a": figures(_engine(0.58, (100.0, 80.0), (40.0, 30.0))),
        "b": figures(_engine(0.87, (100.0, 75.0), None)),
        "c": figures(_engine(0.70, (100.0, 70.0), (44.0, 30.0))),
    }

    assert "p50 alone" not in runs["b"]
    assert medians(runs) == {
        "knee": 0.7,
        "CPU": 0.75,
        "p50 at 5/s": 12.5,
        "p50 alone": 12.0,
        "p50x at 5/s": 1.42,
        "p50x alone": 1.4,
    }
    assert lines(runs)[-1].split() == ["median", "0.7", "0.75", "12.5", "12", "1.42", "1.4"]


def test_every_committed_run_with_an_engine_section_reads() -> None:
    engines = [
        json.loads(path.read_text()).get("engine", {}) for path in sorted(RESULTS.glob("*.json"))
    ]
    compared = [engine for engine in engines if "knee" in engine]

    assert compared
    for engine in compared:
        assert {"knee", "CPU", "p50 at 5/s", "p50x at 5/s"} <= set(figures(engine))


def test_a_file_without_an_engine_section_is_refused_by_name(tmp_path: Path) -> None:
    run = tmp_path / "run.json"
    run.write_text(json.dumps({"engine": _engine(0.7, (100.0, 70.0), (44.0, 30.0))}))
    other = tmp_path / "store-only.json"
    other.write_text(json.dumps({"store": {}}))

    both = subprocess.run(
        [sys.executable, "-m", "bench.runs", str(run), str(other)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    one = subprocess.run(
        [sys.executable, "-m", "bench.runs", str(run)], capture_output=True, text=True, cwd=ROOT
    )

    assert both.returncode == 2
    assert "store-only.json has no engine section" in both.stderr
    assert one.returncode == 0
    assert "median" in one.stderr
