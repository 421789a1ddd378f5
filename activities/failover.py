"""Failover: the channel's providers are asked in order, and the next only after the one before
certainly did not take the message; after one that may have taken it, no other ever is."""

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, NoReturn, TypeVar

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from temporalio.exceptions import ApplicationError

from activities.failures import handover_error
from activities.records import RecordActivities
from core import metrics
from domain.deadlines import FIRST_BACKOFF, LONGEST_BACKOFF
from domain.failures import FailureKind, HandoverFailure
from gateways.base import (
    EmailGateway,
    GatewayUnavailable,
    HandoverAmbiguous,
    Receipt,
    SmsGateway,
)
from gateways.breaker import CircuitState
from gateways.registry import Route
from store.engine import seconds_until

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

G = TypeVar("G", SmsGateway, EmailGateway)
PAST_DEADLINE_WRITE_SECONDS = 1.0
CIRCUIT_REPORT_SECONDS = 1.0
# What leaves a call without an answer, after the request may have reached the provider.
_UNANSWERED = (HandoverAmbiguous, TimeoutError)


@dataclass(frozen=True)
class Attempt(Generic[G]):
    """One attempt of one handover: `send` gives the message to a provider's gateway;
    `shipment_id` is the row that names the provider being asked, if there is one."""

    reference: str
    channel: str
    deadline: datetime
    send: Callable[[G], Awaitable[Receipt]]
    shipment_id: str | None = None
    # The execution's hold on the row (None: the one that wrote it); see `_name_on_row`.
    token: str | None = None
    # What a gateway calls the message before sending it, where it knows (NamesBeforeSending).
    reference_at: Callable[[G], str | None] = lambda _: None

    def __str__(self) -> str:
        return handover_name(self.reference, self.shipment_id)


def handover_name(reference: str, shipment_id: str | None) -> str:
    """How a log line names a handover: the reference the providers know, and the shipment id
    the API answers and the Temporal UI finds."""
    return f"{reference} (shipment {shipment_id})"


class Failover:
    """Asks providers, keeps their circuits (in this process) and reports their changes."""

    def __init__(self, records: RecordActivities | None, worker: str) -> None:
        self._records = records
        self._worker = worker

    async def first_to_take(
        self, attempt: Attempt[G], routes: Sequence[Route[G]], named: str | None
    ) -> tuple[Route[G], Receipt]:
        """The first provider that answers; `named` is the provider the row names now."""
        failures: list[str] = []
        refused: tuple[Route[G], Receipt] | None = None
        for route in routes:
            if seconds_until(attempt.deadline) <= 0 or not route.breaker.admits():
                continue
            if route.name != named:
                await self._name_on_row(attempt, route.name)
                named = route.name
            # Checked again after the naming, which may have waited (a lock, a paused worker);
            # the circuit's one probe is taken only by a provider about to be asked.
            remaining = seconds_until(attempt.deadline)
            if remaining <= 0 or not route.breaker.admit():
                continue
            try:
                receipt = await self._call(route, attempt, remaining)
            except GatewayUnavailable as exc:
                await self._verdict(route, route.breaker.failed())
                failures.append(f"{route.name}: {exc}")
                continue
            except _UNANSWERED as exc:
                # No other provider for this message. A failed answer (a 5xx), or none within
                # the gateway's own timeout, counts against the circuit all the same, so an
                # outage of them sends the next orders on. A call the handover's deadline cut
                # short (TimeoutError: a late start, a slow provider before it) says nothing.
                if isinstance(exc, HandoverAmbiguous):
                    await self._verdict(route, route.breaker.failed())
                return await self._settle(attempt, route, str(exc) or "no answer by the deadline")
            await self._verdict(route, route.breaker.answered())
            if receipt.elsewhere:
                refused = refused or (route, receipt)
                continue
            return route, receipt
        if refused is not None:
            return refused  # no other provider took it: its refusal is the answer
        raise _none_took(attempt, routes, failures)

    async def resume(
        self, attempt: Attempt[G], routes: Sequence[Route[G]], named: str | None
    ) -> tuple[Route[G], Receipt]:
        """An earlier execution may have given the message to the provider the row names: ask
        it again where it recognises a repeat, before the deadline; ask no other, ever.

        Past the deadline, no one: the earlier execution may have stopped before its request
        left, and the repeat would be the first send, after the caller was answered (perhaps
        after the message's TTL)."""
        name = named or routes[0].name
        route = next((r for r in routes if r.name == name), None)
        if seconds_until(attempt.deadline) <= 0:
            stopped = f"an earlier execution stopped while asking {name}; too late"
            _ambiguous(attempt, stopped, route)
        if route is None or not route.gateway.deduplicates:
            _ambiguous(attempt, f"an earlier execution stopped while asking {name}", route)
        try:
            return route, await self._call(route, attempt, seconds_until(attempt.deadline))
        except (GatewayUnavailable, *_UNANSWERED) as exc:
            _ambiguous(attempt, str(exc) or "no answer", route)

    async def _settle(
        self, attempt: Attempt[G], route: Route[G], reason: str
    ) -> tuple[Route[G], Receipt]:
        """After a call that may have reached the provider: ask the same provider again where
        it recognises a repeat, until the deadline; otherwise stop here."""
        delay = FIRST_BACKOFF.total_seconds()
        while route.gateway.deduplicates and seconds_until(attempt.deadline) > delay:
            await asyncio.sleep(delay)
            try:
                receipt = await self._call(route, attempt, seconds_until(attempt.deadline))
            except (GatewayUnavailable, *_UNANSWERED) as exc:
                reason = str(exc) or "no answer by the deadline"
                delay = min(delay * 2, LONGEST_BACKOFF.total_seconds())
                continue
            await self._verdict(route, route.breaker.answered())
            return route, receipt
        _ambiguous(attempt, f"{route.name}: {reason}", route)

    async def _call(self, route: Route[G], attempt: Attempt[G], remaining: float | None) -> Receipt:
        """One call to one provider, bounded by `remaining`; timed and traced by provider."""
        with _tracer.start_as_current_span(
            f"send {attempt.channel} via {route.name}",
            kind=SpanKind.CLIENT,
            attributes={
                "notifications.channel": attempt.channel,
                "notifications.provider": route.name,
            },
            # The status names the failure; a recorded traceback would carry its causes,
            # whose text may quote a recipient or a provider's words about the message.
            record_exception=False,
        ) as span:
            started = time.perf_counter()
            outcome = "ambiguous"
            try:
                async with asyncio.timeout(remaining):
                    receipt = await attempt.send(route.gateway)
                outcome = receipt.outcome
            except GatewayUnavailable:
                outcome = "unavailable"
                raise
            except (*_UNANSWERED, ApplicationError):
                raise
            except Exception as exc:
                # A defect while the provider had the request: it may have taken the message.
                # Logged by its type and its frames: its text may quote the provider's words.
                frames = "".join(traceback.format_tb(exc.__traceback__))
                log.error(
                    "handover of %s via %s failed: %s\n%s",
                    attempt,
                    route.name,
                    type(exc).__name__,
                    frames,
                )
                raise HandoverAmbiguous(f"{route.name}: {type(exc).__name__}") from None
            finally:
                metrics.observe_handover(route.name, outcome, time.perf_counter() - started)
                span.set_attribute("notifications.outcome", outcome)
        return receipt

    async def _name_on_row(self, attempt: Attempt[G], provider: str) -> None:
        """Before asking another provider than the row names: a handover resumed elsewhere
        must know which provider may hold the message. If one has resumed it meanwhile (this
        worker was frozen past the workflow task's timeout), it holds the row, and may have
        sent through the provider named: this execution asks nobody."""
        if self._records is None or attempt.shipment_id is None:
            return
        named = await asyncio.to_thread(
            self._records.assign_provider,
            attempt.shipment_id,
            provider,
            attempt.token,
            write_by(attempt.deadline),
        )
        if not named:
            _ambiguous(attempt, "another execution resumed this handover")

    async def _verdict(self, route: Route[G], changed: bool) -> None:
        """Publish a change of the provider's circuit: metrics, log, and the store."""
        if not changed:
            return
        view = route.breaker.view()
        metrics.set_circuit(view.channel, view.provider, view.state != CircuitState.CLOSED)
        log.warning("circuit of %s for %s: %s", view.provider, view.channel, view.state)
        if self._records is None:
            return
        # Readiness's view only: it holds no handover for longer, whatever holds the store.
        by = datetime.now(UTC) + timedelta(seconds=CIRCUIT_REPORT_SECONDS)
        try:
            async with asyncio.timeout(CIRCUIT_REPORT_SECONDS):
                await asyncio.to_thread(self._records.report_circuit, self._worker, view, by)
        except Exception:
            log.warning("circuit of %s not reported to the store", view.provider, exc_info=True)


def write_by(deadline: datetime) -> datetime:
    """When a write of the handover must have ended: by the deadline, before which the SDK cuts
    off no attempt (each one's timeout ends past it, even a retry's, which the SDK counts from
    the attempt before). A write cut off goes on in its thread, and must not commit a
    provider's name that no one then asks. Past the deadline the handover names no provider
    (it inserts no row, and a woken execution's naming is fenced off by the takeover): its
    takeover and unnaming get PAST_DEADLINE_WRITE_SECONDS."""
    now = datetime.now(UTC)
    return deadline if now < deadline else now + timedelta(seconds=PAST_DEADLINE_WRITE_SECONDS)


def _none_took(
    attempt: Attempt[G], routes: Sequence[Route[G]], failures: list[str]
) -> ApplicationError:
    """Nothing was sent: no provider asked took it, or none could be asked."""
    if failures:
        reason = "; ".join(failures)
        log.warning("handover of %s not taken: %s", attempt, reason)
        last = seconds_until(attempt.deadline) < LONGEST_BACKOFF.total_seconds()
        return handover_error(HandoverFailure(FailureKind.NOT_TAKEN, reason), final=last)
    if seconds_until(attempt.deadline) <= 0:
        return handover_error(
            HandoverFailure(FailureKind.DEADLINE_PASSED, "handover deadline passed")
        )
    views = [route.breaker.view() for route in routes]
    return handover_error(
        HandoverFailure(
            FailureKind.PROVIDERS_RESTING,
            "every provider's circuit is open: " + ", ".join(v.provider for v in views),
            retry_after_seconds=min(v.open_for_seconds for v in views) or 1.0,
        )
    )


def _ambiguous(attempt: Attempt[G], reason: str, route: Route[G] | None = None) -> NoReturn:
    """The message may have left (through `route`, where one was asked): asking again could
    send it twice, so the handover ends."""
    log.warning("handover of %s unconfirmed: %s", attempt, reason)
    named = attempt.reference_at(route.gateway) if route is not None else None
    raise handover_error(HandoverFailure(FailureKind.AMBIGUOUS, reason, gateway_reference=named))
