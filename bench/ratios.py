"""A comparison's figures against its floor, derived in one place from what `compare` measured:
the two the targets are set on and those beside them. `compare` writes them with each run,
`make bench` prints them, and `bench.runs` derives them again from files written before a
figure was."""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Figures:
    knee: float | None = None  # ours / the floor's, req/s
    p50_at_5_ms: float | None = None  # ours - the floor's, at 5 req/s
    cpu: float | None = None  # the floor's / ours, CPU per order at 10 req/s
    p50_alone_ms: float | None = None  # ours - the floor's, one order at a time
    # The p50s' quotients: a difference in ms shrinks on a faster machine, these do not
    # (docs/performance.md, "On a faster machine").
    p50_at_5: float | None = None  # ours / the floor's, at 5 req/s
    p50_alone: float | None = None  # ours / the floor's, one order at a time


def against_floor(compared: dict[str, Any], ours: str, floor: str = "engine") -> Figures:
    """What `compared` has the measures for; a figure an older file cannot give stays None."""

    def pair(section: str, read: Callable[[Any], float]) -> tuple[float, float] | None:
        if section not in compared:
            return None
        return read(compared[section][ours]), read(compared[section][floor])

    knees = pair("knee", lambda target: target["knee_rps"])
    at_5 = pair("at_5_rps", lambda target: target["p50_ms"])
    cpu = pair("cpu", lambda target: target["cpu_ms_per_order"]["total"])
    alone = pair("one_at_a_time", lambda target: target["p50_ms"])
    return Figures(
        knee=round(knees[0] / knees[1], 2) if knees and knees[1] else None,
        p50_at_5_ms=round(at_5[0] - at_5[1], 1) if at_5 else None,
        cpu=round(cpu[1] / cpu[0], 2) if cpu and cpu[0] else None,
        p50_alone_ms=round(alone[0] - alone[1], 1) if alone else None,
        p50_at_5=round(at_5[0] / at_5[1], 2) if at_5 and at_5[1] else None,
        p50_alone=round(alone[0] / alone[1], 2) if alone and alone[1] else None,
    )


def written(figures: Figures, ours: str, floor: str = "engine") -> dict[str, float | None]:
    """The figures under the names a results file gives them (`knee_service_over_engine`, …)."""
    a, b = ours.replace(" ", "_"), floor.replace(" ", "_")
    names = {
        "knee": f"knee_{a}_over_{b}",
        "p50_at_5_ms": f"p50_{a}_minus_{b}_at_5_rps_ms",
        "cpu": f"cpu_{b}_over_{a}",
        "p50_alone_ms": f"p50_{a}_minus_{b}_one_at_a_time_ms",
        "p50_at_5": f"p50_{a}_over_{b}_at_5_rps",
        "p50_alone": f"p50_{a}_over_{b}_one_at_a_time",
    }
    return {names[field]: value for field, value in asdict(figures).items()}
