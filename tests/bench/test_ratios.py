"""A comparison's figures against its floor: derived from the measures, each under the name
results files have always given it, and None where an older file lacks the measure."""

from bench.ratios import Figures, against_floor, written

COMPARED = {
    "knee": {"front door": {"knee_rps": 17.5}, "engine": {"knee_rps": 25.0}},
    "at_5_rps": {"front door": {"p50_ms": 45.0}, "engine": {"p50_ms": 33.0}},
    "cpu": {
        "front door": {"cpu_ms_per_order": {"total": 104.9}},
        "engine": {"cpu_ms_per_order": {"total": 80.1}},
    },
    "one_at_a_time": {"front door": {"p50_ms": 43.5}, "engine": {"p50_ms": 29.1}},
}


def test_the_figures_of_ours_against_the_floor() -> None:
    figures = against_floor(COMPARED, "front door")

    assert figures == Figures(
        knee=0.7, p50_at_5_ms=12.0, cpu=0.76, p50_alone_ms=14.4, p50_at_5=1.36, p50_alone=1.49
    )
    assert written(figures, "front door") == {
        "knee_front_door_over_engine": 0.7,
        "p50_front_door_minus_engine_at_5_rps_ms": 12.0,
        "cpu_engine_over_front_door": 0.76,
        "p50_front_door_minus_engine_one_at_a_time_ms": 14.4,
        "p50_front_door_over_engine_at_5_rps": 1.36,
        "p50_front_door_over_engine_one_at_a_time": 1.49,
    }


def test_a_floor_that_carried_nothing_and_a_measure_not_taken_give_no_figure() -> None:
    older = {**COMPARED, "knee": {"front door": {"knee_rps": 5.0}, "engine": {"knee_rps": 0}}}
    del older["one_at_a_time"]

    figures = against_floor(older, "front door")

    assert figures.knee is None
    assert figures.p50_alone_ms is None
    assert figures.p50_alone is None
    assert figures.p50_at_5_ms == 12.0
