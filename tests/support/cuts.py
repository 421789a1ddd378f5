"""A line cut after each chunk of a handover in turn, and what each outcome then promises: the
check that a gateway never sends a message twice, nor sends one it called not sent."""

from collections.abc import Awaitable, Callable

from gateways.base import GatewayUnavailable, HandoverAmbiguous, Receipt
from tests.support.fakes.tcp_proxy import Proxy
from tests.support.polling import eventually

Handover = Callable[[int], Awaitable[Receipt]]  # the n-th message's handover
NOT_SENT, AMBIGUOUS = "not sent", "ambiguous"
# What the provider may have of a message, by its handover's outcome: "not sent" lets the next
# provider be asked, so that message must not have reached this one.
_RECEIVED = {"ACCEPTED": {1}, NOT_SENT: {0}, AMBIGUOUS: {0, 1}}


async def cut_in_turn(
    handover: Handover, proxy: Proxy, warm_up: Handover | None = None
) -> dict[int, str]:
    """Handover n with the line cut after its n-th chunk, either way, for n = 1, 2, … until a
    handover ends before its cut; `warm_up` (message 0, not cut) before each leaves a
    connection to keep. Each message's outcome."""
    outcomes: dict[int, str] = {}
    for n in range(1, 100):
        if warm_up is not None:
            await warm_up(0)
        cuts, proxy.cut_after = proxy.cuts, proxy.forwarded + n
        try:
            outcomes[n] = (await handover(n)).outcome.name
        except GatewayUnavailable:
            outcomes[n] = NOT_SENT
        except HandoverAmbiguous:
            outcomes[n] = AMBIGUOUS
        if proxy.forwarded < proxy.cut_after:
            proxy.cut_after = None
            return outcomes
        # One cut per handover: the next waits until this one's connection is closed, so that
        # it is not taken for the next message as the cut still comes.
        await _closed(proxy, cuts)
    raise AssertionError("a handover of 100 chunks or more")


def broken_promises(outcomes: dict[int, str], received: list[int]) -> dict[int, tuple[str, int]]:
    """The messages the provider has more or fewer times than their outcome allows, each with
    its outcome and that count."""
    return {
        n: (outcome, received.count(n))
        for n, outcome in outcomes.items()
        if received.count(n) not in _RECEIVED[outcome]
    }


async def _closed(proxy: Proxy, cuts_before: int) -> None:
    async def closed() -> bool:
        return proxy.cuts > cuts_before

    await eventually(closed, within=5, interval=0.001)
