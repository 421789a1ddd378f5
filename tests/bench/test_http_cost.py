"""The HTTP exchange's cost is measured on a real uvicorn server, in a process of its own."""

from bench.http_cost import in_process_of_its_own


async def test_an_exchange_costs_cpu_on_both_sides() -> None:
    figures = await in_process_of_its_own(100)

    assert figures["exchanges"] == 100
    # Tens of microseconds at the very least on any machine: a figure of 0 would mean the
    # server's process was not the one measured.
    assert figures["client_cpu_ms"] > 0.02
    assert figures["server_cpu_ms"] > 0.02
    assert figures["caller_cpu_ms"] > 0.02
