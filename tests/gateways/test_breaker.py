"""A provider's circuit: opened by a run of failed calls, one probe after the cooldown."""

from gateways.breaker import CircuitBreaker, CircuitState


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, threshold: int = 3) -> CircuitBreaker:
    return CircuitBreaker("SMS", "twilio", threshold, 30.0, clock)


def opened() -> tuple[Clock, CircuitBreaker]:
    """A circuit that one failure opened, and its clock."""
    clock = Clock()
    circuit = breaker(clock, threshold=1)
    circuit.failed()
    return clock, circuit


def test_a_run_of_failed_calls_opens_it_for_the_cooldown() -> None:
    clock = Clock()
    circuit = breaker(clock)

    opened = [circuit.failed() for _ in range(3)]

    assert opened == [False, False, True]
    assert not circuit.admit()
    view = circuit.view()
    assert (view.state, view.failures, view.open_for_seconds) == (CircuitState.OPEN, 3, 30.0)
    clock.now += 29.9
    assert not circuit.admits()


def test_an_answer_resets_the_run() -> None:
    circuit = breaker(Clock())
    circuit.failed()
    circuit.failed()
    circuit.answered()  # a refused recipient is an answer too
    circuit.failed()
    circuit.failed()

    assert circuit.admit()
    assert circuit.view().state is CircuitState.CLOSED


def test_after_the_cooldown_one_probe_decides() -> None:
    clock, circuit = opened()
    clock.now += 30

    assert circuit.view().state is CircuitState.PROBING
    assert circuit.admit()  # the probe
    assert not circuit.admit()  # the others still skip it
    assert circuit.answered() is True
    assert circuit.admit()
    assert circuit.view().state is CircuitState.CLOSED


def test_a_failed_probe_opens_it_again() -> None:
    clock, circuit = opened()
    clock.now += 30
    assert circuit.admit()
    assert circuit.failed() is True
    assert not circuit.admit()
    assert circuit.view().state is CircuitState.OPEN


def test_a_probe_that_never_reports_back_does_not_keep_the_provider_skipped() -> None:
    clock, circuit = opened()
    clock.now += 30
    assert circuit.admit()  # its handover fails elsewhere and never says how the call went

    clock.now += 30
    assert circuit.admit()
