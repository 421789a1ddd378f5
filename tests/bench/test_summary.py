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


def test_the_noisy_neighbour_figures_print_alone_and_beside_it() -> None:
    printed = lines(json.loads((RESULTS / "2026-12-02T0127-neighbours.json").read_text()))

    assert printed == [
        "a tenant's first event after its 201, p50 / max, beside a tenant whose 10 receivers"
        " never answer (2.0 orders/s, 3229 requests)",
        "  alone 17.4 / 72.1 ms; beside it, first half 268.4 / 1521.8 ms, second half"
        " 1047.3 / 1539.2 ms",
        "  CPU beside it, of one core: api 2%, simulator 1%, simulator2 0%, temporal 97%,"
        " worker 60%",
    ]


def test_noisy_neighbour_figures_without_cpu_print_the_lags() -> None:
    printed = lines(json.loads((RESULTS / "2026-12-02T0124-neighbours.json").read_text()))

    assert len(printed) == 2
    assert printed[1].startswith("  alone 22.8 / 59.0 ms")


def test_orders_beside_retention_print_on_each_store_measured() -> None:
    printed = lines(json.loads((RESULTS / "2026-12-03T0952.json").read_text()))

    sqlite = printed.index("orders at 5 req/s beside retention on SQLite, p50 / p99")
    postgres = printed.index("orders at 5 req/s beside retention on PostgreSQL, p50 / p99")
    assert printed[sqlite + 1] == (
        "  alone 37.7 / 53.5 ms; while it removes 200000 rows (66.0 s) 40.7 / 105.2 ms"
    )
    assert printed[postgres + 1] == (
        "  alone 38.4 / 54.0 ms; while it removes 200000 rows (51.6 s) 37.3 / 59.1 ms"
    )


def test_a_run_from_before_retention_on_postgresql_prints_sqlites_alone() -> None:
    printed = lines(json.loads((RESULTS / "2026-11-30T2239.json").read_text()))

    assert "orders at 5 req/s beside retention on SQLite, p50 / p99" in printed
    assert not any("beside retention on PostgreSQL" in line for line in printed)
