"""The PNG beside each result: latency over time at 5 req/s, and p50/p99 against the offered
rate, for the service and the engine floor side by side."""

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.load import Sample
from bench.targets import KNEE_P99_MS


def plot(path: Path, at_5_rps: dict[str, list[Sample]], knees: dict[str, Any]) -> None:
    figure, (timeline, curve) = plt.subplots(1, 2, figsize=(13, 4.8))
    # One clock for both, so that the slices the targets took in turn show as they ran.
    start = min((s.scheduled for samples in at_5_rps.values() for s in samples), default=0.0)
    for name, samples in at_5_rps.items():
        if samples:
            timeline.scatter(
                [s.scheduled - start for s in samples],
                [s.latency_ms for s in samples],
                s=6,
                label=name,
            )
    timeline.set(
        title="Order latency at 5 req/s, the targets in turn",
        xlabel="seconds",
        ylabel="ms (from scheduled start)",
    )
    timeline.legend()
    for name, result in knees.items():
        steps = sorted(result["steps"], key=lambda step: step["offered_rps"])
        rates = [step["offered_rps"] for step in steps]
        curve.plot(rates, [step["p99_ms"] for step in steps], marker="o", label=f"{name} p99")
        curve.plot(
            rates,
            [step["p50_ms"] for step in steps],
            marker=".",
            linestyle="--",
            label=f"{name} p50",
        )
    curve.axhline(KNEE_P99_MS, color="grey", linewidth=0.8)
    curve.set(
        title="Latency against offered rate (knee: p99 at the grey line)",
        xlabel="offered req/s",
        ylabel="ms",
        yscale="log",
    )
    curve.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
