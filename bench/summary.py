"""What `make bench` prints when it ends: the ratios to the engine, the data-scale table."""

from typing import Any

from bench.front_door import NAME as FRONT_DOOR
from bench.http_cost import EXCHANGES_PER_ORDER
from bench.ratios import Figures, against_floor
from bench.waterfall import LEGS


def lines(results: dict[str, Any]) -> list[str]:
    return [
        *_http(results.get("http", {})),
        *_smtp(results.get("smtp", {})),
        *_engine(results.get("engine", {})),
        *_front_door(results.get("front-door", {})),
        *_postgres(results.get("postgres", {}), results.get("engine", {})),
        *_retention(results.get("retention", {}), "SQLite"),
        *_retention(results.get("postgres", {}).get("retention", {}), "PostgreSQL"),
        *_store(results.get("store", {})),
        *_neighbours(results.get("neighbours", {})),
    ]


def _http(http: dict[str, Any]) -> list[str]:
    if "client_cpu_ms" not in http:
        return []
    client, server, caller = http["client_cpu_ms"], http["server_cpu_ms"], http["caller_cpu_ms"]
    # One of the exchanges is the order, from the benchmark's caller; httpx makes the others.
    per_order = EXCHANGES_PER_ORDER * server + (EXCHANGES_PER_ORDER - 1) * client + caller
    return [
        "one HTTP exchange (uvicorn FastAPI route)",
        f"  CPU: server {server} ms, client {client} ms (httpx) or {caller} ms (aiohttp, the"
        f" benchmark's caller); an order of the service makes {EXCHANGES_PER_ORDER} that the"
        f" engine floor does not: {per_order:.1f} ms",
    ]


def _smtp(smtp: dict[str, Any]) -> list[str]:
    if "error" in smtp or not smtp:
        return []
    title = "an email's SMTP handover (STARTTLS, AUTH), p50: a connection per message / kept open"
    return [
        title,
        *(
            f"  {rtt}: {ways['per_message']['p50_ms']} / {ways['kept_open']['p50_ms']} ms"
            for rtt, ways in smtp.items()
        ),
    ]


def _engine(compared: dict[str, Any]) -> list[str]:
    return _against_floor(compared, "service", "service against the engine floor")


def _front_door(compared: dict[str, Any]) -> list[str]:
    title = "the engine floor behind a front door of no work of its own, against the floor"
    return _against_floor(compared, FRONT_DOOR, title)


def _against_floor(compared: dict[str, Any], ours: str, title: str) -> list[str]:
    if "knee" not in compared:
        return []
    knee, at_5, cpu = compared["knee"], compared["at_5_rps"], compared["cpu"]
    figures = against_floor(compared, ours)
    return [
        title,
        f"  knee: {ours} {knee[ours]['knee_rps']:g} / engine {knee['engine']['knee_rps']:g}"
        f" req/s = {figures.knee}",
        f"  p50 at 5 req/s: {ours} {at_5[ours]['p50_ms']} - engine"
        f" {at_5['engine']['p50_ms']} ms = {figures.p50_at_5_ms} ms"
        f" ({ours} / engine = {figures.p50_at_5})",
        *_alone(compared.get("one_at_a_time", {}), ours, figures),
        f"  CPU per order at 10 req/s: {ours} {cpu[ours]['cpu_ms_per_order']['total']} /"
        f" engine {cpu['engine']['cpu_ms_per_order']['total']} ms"
        f" (engine / {ours} = {figures.cpu})",
        *_legs(compared.get("one_at_a_time_legs_p50_ms", {}), ours),
    ]


def _alone(alone: dict[str, dict[str, float]], ours: str, figures: Figures) -> list[str]:
    if set(alone) != {ours, "engine"}:
        return []
    return [
        f"  p50 one at a time: {ours} {alone[ours]['p50_ms']} - engine"
        f" {alone['engine']['p50_ms']} ms = {figures.p50_alone_ms} ms"
        f" ({ours} / engine = {figures.p50_alone})"
    ]


def _legs(legs: dict[str, dict[str, float]], ours: str) -> list[str]:
    """One order alone, leg by leg (bench/waterfall.py): where the p50 difference lies."""
    if set(legs) != {ours, "engine"}:
        return []
    service, floor = legs[ours], legs["engine"]
    return [f"  one at a time, p50 by leg, {ours} / engine (ms):"] + [
        f"    {leg:<20} {service[leg]:>6} / {floor[leg]:>6}  ({service[leg] - floor[leg]:+.1f})"
        for leg in LEGS
    ]


def _postgres(postgres: dict[str, Any], compared: dict[str, Any]) -> list[str]:
    """Beside the engine section's service, which runs on the local SQLite file."""
    if "cpu" not in postgres:
        return []
    cpu = postgres["cpu"]["cpu_ms_per_order"]
    p50 = f"  p50 at 5 req/s: {postgres['at_5_rps']['p50_ms']} ms"
    total = f"  CPU per order at 10 req/s: {cpu['total']} ms, PostgreSQL's {cpu['postgresql']}"
    if "cpu" in compared:
        p50 += f" (SQLite: {compared['at_5_rps']['service']['p50_ms']})"
        total += f" (SQLite: {compared['cpu']['service']['cpu_ms_per_order']['total']})"
    return ["service on PostgreSQL, the production store", p50, total]


def _retention(found: dict[str, Any], store: str) -> list[str]:
    if "orders_alone" not in found:
        return []

    def latency(name: str) -> str:
        return f"{found[name]['p50_ms']} / {found[name]['p99_ms']} ms"

    return [
        f"orders at 5 req/s beside retention on {store}, p50 / p99",
        f"  alone {latency('orders_alone')}; while it removes {found['removed_rows']} rows"
        f" ({found['retention_seconds']} s) {latency('orders_while_retention_runs')}",
    ]


def _store(store: dict[str, Any]) -> list[str]:
    sizes = store.get("sizes")
    if not sizes:
        return []
    names = list(sizes)
    small, large = names[0], names[-1]
    out = [f"store p50 in µs: {small} → {large} shipments (ratio; scans)"]
    for probe, ratio in store["ratios"].items():
        scans = ", ".join(sorted(set(sizes[large][probe]["plan"])))
        out.append(
            f"  {probe:<36} {sizes[small][probe]['p50_us']:>6} → {sizes[large][probe]['p50_us']:>6}"
            f"  (x{ratio}; {scans})"
        )
    writer = store.get("feed_writer", {})
    if writer:
        out.append(
            f"  feed writer: {writer['per_second']} completions/s from {writer['processes']}"
            f" processes of {writer['threads']} threads"
        )
    unnumbered = store.get("feed_writer_without_numbering", {})
    if unnumbered:
        out.append(f"  the same without numbering the feed: {unnumbered['per_second']}/s")
    numbering = store.get("feed_numbering_alone", {})
    if numbering:
        out.append(f"  feed numbering alone (its advisory lock): {numbering['per_second']}/s")
    return out


def _neighbours(found: dict[str, Any]) -> list[str]:
    if "alone" not in found:
        return []

    def lag(name: str) -> str:
        return f"{found[name]['p50_ms']} / {found[name]['max_ms']} ms"

    return [
        "a tenant's first event after its 201, p50 / max, beside a tenant whose"
        f" {found['noisy_subscriptions']} receivers never answer"
        f" ({found['noisy_orders_per_second']} orders/s, {found['hanging_requests']} requests)",
        f"  alone {lag('alone')}; beside it, first half {lag('beside_first_half')},"
        f" second half {lag('beside_second_half')}",
        *_busy(found.get("cpu_percent_beside", {})),
    ]


def _busy(percent: dict[str, int]) -> list[str]:
    if not percent:
        return []
    shares = ", ".join(f"{name} {share}%" for name, share in sorted(percent.items()))
    return [f"  CPU beside it, of one core: {shares}"]
