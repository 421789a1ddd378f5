"""The SMTP handover section: the delaying proxy it uses, and the connections each way opens."""

import asyncio
import time

from bench.smtp_handover import measure
from bench.summary import lines
from tests.support.fakes.tcp_proxy import proxied


async def test_the_proxy_holds_each_way_half_the_round_trip() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with proxied(port, 200.0) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        start = time.monotonic()
        writer.write(b"hello\r\n")
        answer = await reader.readline()
        took = time.monotonic() - start
        writer.close()
    server.close()

    assert answer == b"hello\r\n"
    assert took >= 0.2
    assert proxy.sent == [b"hello\r\n"]


async def test_kept_connections_carry_every_message_and_the_summary_prints_both_ways() -> None:
    results = await measure(2)

    for ways in results.values():
        assert ways["per_message"]["connections"] == ways["per_message"]["messages"]
        assert ways["kept_open"]["connections"] == 1
    printed = lines({"smtp": results})
    assert printed[0].startswith("an email's SMTP handover")
    kept = results["rtt_20_ms"]["kept_open"]["p50_ms"]
    assert f"  rtt_20_ms: {results['rtt_20_ms']['per_message']['p50_ms']} / {kept} ms" in printed
