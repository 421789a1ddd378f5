"""Several runs' comparisons with the engine floor side by side, with their medians: between
runs of one code on this machine the knee ratio moves by about 0.1 and the p50 difference by
about 3 ms, so a target is judged on several runs, not one.

    python -m bench.runs bench/results/2026-11-30T2049.json bench/results/2026-11-30T21*-engine.json
"""

import argparse
import json
import logging
import statistics
from pathlib import Path
from typing import Any

from bench.ratios import against_floor
from core.logs import configure_logging

log = logging.getLogger("bench")
# Column titles of the figures bench/ratios.py derives; the first line of `lines` says what each is.
COLUMNS = {
    "knee": "knee",
    "CPU": "cpu",
    "p50 at 5/s": "p50_at_5_ms",
    "p50 alone": "p50_alone_ms",
    "p50x at 5/s": "p50_at_5",
    "p50x alone": "p50_alone",
}
LEGEND = (
    "knee: service / engine; CPU per order at 10 req/s: engine / service;"
    " p50 at 5 req/s and one at a time: service - engine, ms; p50x: service / engine"
)


def figures(engine: dict[str, Any]) -> dict[str, float]:
    """One run's figures; a figure its file cannot give (an older run's) is left out."""
    found = against_floor(engine, "service")
    return {
        title: value
        for title, field in COLUMNS.items()
        if (value := getattr(found, field)) is not None
    }


def medians(runs: dict[str, dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the runs that have it."""
    return {
        name: round(statistics.median(values), 2)
        for name in COLUMNS
        if (values := [run[name] for run in runs.values() if name in run])
    }


def lines(runs: dict[str, dict[str, float]]) -> list[str]:
    table = {**runs, "median": medians(runs)}
    width = max(len(name) for name in table)
    out = [LEGEND, f"{'':<{width}}" + "".join(f"{title:>12}" for title in COLUMNS)]
    for name, run in table.items():
        cells = [f"{run[title]:g}" if title in run else "-" for title in COLUMNS]
        out.append(f"{name:<{width}}" + "".join(f"{cell:>12}" for cell in cells))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="bench/results/*.json")
    args = parser.parse_args()
    configure_logging("WARNING")
    runs = {}
    for path in args.files:
        engine = json.loads(path.read_text()).get("engine", {})
        if "knee" not in engine:
            parser.error(f"{path} has no engine section")
        runs[path.stem] = figures(engine)
    for line in lines(runs):
        log.warning("%s", line)


if __name__ == "__main__":
    main()
