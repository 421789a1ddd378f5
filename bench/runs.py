"""Several runs' comparisons with the engine floor side by side, with their medians: between
runs of one code on this machine the knee ratio moves by about 0.1 and the p50 difference by
about 3 ms, so a target is judged on several runs, not one.

    python -m bench.runs bench/results/2026-11-30T2049.json bench/results/2026-11-30T21*-engine.json
"""

import argparse
import json
import logging
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.logs import configure_logging

log = logging.getLogger("bench")
Engine = dict[str, Any]


def _cpu(engine: Engine, target: str) -> float:
    return float(engine["cpu"][target]["cpu_ms_per_order"]["total"])


def _alone(engine: Engine, target: str) -> float:
    return float(engine["one_at_a_time"][target]["p50_ms"])


# Column titles; the first line of `lines` says what each is.
FIGURES: dict[str, Callable[[Engine], float]] = {
    "knee": lambda e: e["ratios"]["knee_service_over_engine"],
    "CPU": lambda e: round(_cpu(e, "engine") / _cpu(e, "service"), 2),
    "p50 at 5/s": lambda e: e["ratios"]["p50_service_minus_engine_at_5_rps_ms"],
    "p50 alone": lambda e: round(_alone(e, "service") - _alone(e, "engine"), 1),
}
LEGEND = (
    "knee: service / engine; CPU per order at 10 req/s: engine / service;"
    " p50 at 5 req/s and one at a time: service - engine, ms"
)


def figures(engine: Engine) -> dict[str, float]:
    """One run's figures; a figure its file does not have (an older run's) is left out."""
    found = {}
    for name, figure in FIGURES.items():
        try:
            found[name] = figure(engine)
        except KeyError:
            continue
    return found


def medians(runs: dict[str, dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the runs that have it."""
    return {
        name: round(statistics.median(values), 2)
        for name in FIGURES
        if (values := [run[name] for run in runs.values() if name in run])
    }


def lines(runs: dict[str, dict[str, float]]) -> list[str]:
    table = {**runs, "median": medians(runs)}
    width = max(len(name) for name in table)
    out = [LEGEND, f"{'':<{width}}" + "".join(f"{figure:>12}" for figure in FIGURES)]
    for name, run in table.items():
        cells = [f"{run[figure]:g}" if figure in run else "-" for figure in FIGURES]
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
        if "ratios" not in engine:
            parser.error(f"{path} has no engine section")
        runs[path.stem] = figures(engine)
    for line in lines(runs):
        log.warning("%s", line)


if __name__ == "__main__":
    main()
