"""Stand-ins for InstantNotificationWorkflow's local activities, the Temporal samples' way:
activities under the real ones' names, taking and returning the real dataclasses, that keep
what the workflow asked and answer as each test tells them."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

from activities.handover import HandoverInput
from activities.records import (
    DiscardInput,
    DiscardResult,
    FindInput,
    FindResult,
    TransitionInput,
    TransitionResult,
)
from domain.handover import HandoverResult
from domain.reports import DeliveryReport


@dataclass
class MockedActivities:
    """`handovers` answers the attempts in turn (the last one answers the rest); an exception
    fails that attempt. `held` maps a transition's number to the reports the store hands back
    when it records that transition. While `hold` is set, a handover waits for it to be cleared
    (released), so a test can act while the handover runs. The first `failing_records`
    records fail, as with the store away."""

    handovers: list[HandoverResult | Exception]
    held: dict[int, list[DeliveryReport]] = field(default_factory=dict)
    hold: bool = False
    failing_records: int = 0
    row_written: bool = True  # what the store says of the order's row after a cancel
    hold_discards: bool = False  # a discard waits for `released`, as on a hung store
    hold_records: bool = False  # a record waits for `released` (`recording` is set), likewise
    handover_inputs: list[HandoverInput] = field(default_factory=list)
    transitions: list[TransitionInput] = field(default_factory=list)
    discards: list[DiscardInput] = field(default_factory=list)
    handing_over: asyncio.Event = field(default_factory=asyncio.Event)
    recording: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    @activity.defn(name="hand_over")
    async def hand_over(self, data: HandoverInput) -> HandoverResult:
        self.handover_inputs.append(data)
        self.handing_over.set()
        if self.hold:
            await self.released.wait()
        answer = self.handovers[min(len(self.handover_inputs), len(self.handovers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @activity.defn(name="record_transition")
    async def record_transition(self, data: TransitionInput) -> TransitionResult:
        if self.failing_records > 0:
            self.failing_records -= 1
            raise RuntimeError("the store is away")
        if self.hold_records:
            self.recording.set()
            await self.released.wait()
        self.transitions.append(data)
        return TransitionResult(recorded=True, reports=self.held.pop(data.number, []))

    @activity.defn(name="discard_shipment")
    async def discard_shipment(self, data: DiscardInput) -> DiscardResult:
        if self.hold_discards:
            await self.released.wait()
        self.discards.append(data)
        return DiscardResult(shipment_id=data.shipment_id)

    @activity.defn(name="find_shipment")
    async def find_shipment(self, data: FindInput) -> FindResult:
        return FindResult(found=self.row_written)

    def release(self) -> None:
        self.released.set()

    @property
    def functions(self) -> list[Callable[..., Any]]:
        return [self.hand_over, self.record_transition, self.discard_shipment, self.find_shipment]

    def events(self) -> list[tuple[int, str, str | None, bool]]:
        """The recorded transitions as (number, kind, status, applied)."""
        return [(t.number, t.kind, t.status, t.applied) for t in self.transitions]


def accepted(status: str = "SMS_Accepted", **recorded: Any) -> HandoverResult:
    """The gateway took the message; `recorded` as the handover's own record of it sets."""
    return HandoverResult(status=status, at=datetime.now(UTC), gateway_reference="gw-1", **recorded)


def refused(status: str = "SMS_Failed_InvalidRecipient") -> HandoverResult:
    return HandoverResult(status=status, at=datetime.now(UTC), detail="refused")
