"""What `make bench` prints when it ends, read from a committed results file."""

import json
from pathlib import Path

from bench.summary import lines

RESULTS = Path(__file__).parents[2] / "bench" / "results"


def test_the_comparison_prints_each_p50_with_its_difference_and_quotient() -> None:
    printed = lines(json.loads((RESULTS / "2026-11-30T2239.json").read_text()))

    assert "  knee: service 28.75 / engine 37.5 req/s = 0.77" in printed
    assert (
        "  p50 at 5 req/s: service 26.2 - engine 18.8 ms = 7.4 ms (service / engine = 1.39)"
        in printed
    )
    assert (
        "  p50 one at a time: service 27.9 - engine 18.7 ms = 9.2 ms (service / engine = 1.49)"
        in printed
    )


def test_a_comparison_without_one_at_a_time_prints_the_rest() -> None:
    results = json.loads((RESULTS / "2026-11-30T2239.json").read_text())
    del results["engine"]["one_at_a_time"]

    printed = lines(results)

    assert not any("one at a time:" in line for line in printed)
    assert "  knee: service 28.75 / engine 37.5 req/s = 0.77" in printed
