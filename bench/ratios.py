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


Pair = tuple[float, float] | None  # a measure's value for ours and for the floor, in that order


def against_floor(compared: dict[str, Any], ours: str, floor: str = "engine") -> Figures:
    """What `compared` has the measures for; a figure an older file cannot give stays None."""

    def pair(section: str, read: Callable[[Any], float]) -> Pair:
        if section not in compared:
            return None
        return read(compared[section][ours]), read(compared[section][floor])

    at_5 = pair("at_5_rps", lambda target: target["p50_ms"])
    alone = pair("one_at_a_time", lambda target: target["p50_ms"])
    cpu = pair("cpu", lambda target: target["cpu_ms_per_order"]["total"])
    return Figures(
        knee=_quotient(pair("knee", lambda target: target["knee_rps"])),
        p50_at_5_ms=_difference(at_5),
        cpu=_quotient((cpu[1], cpu[0]) if cpu else None),  # the floor's over ours
        p50_alone_ms=_difference(alone),
        p50_at_5=_quotient(at_5),
        p50_alone=_quotient(alone),
    )


def _quotient(pair: Pair) -> float | None:
    return round(pair[0] / pair[1], 2) if pair and pair[1] else None


def _difference(pair: Pair) -> float | None:
    return round(pair[0] - pair[1], 1) if pair else None


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
