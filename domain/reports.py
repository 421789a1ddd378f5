"""A delivery report as the workflow sees it, whatever gateway it came from."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class MatchKey(StrEnum):
    """Which of a shipment's keys a report names: the client reference the handover sent, or
    the id the gateway gave the message (for gateways whose reports carry nothing of ours)."""

    REFERENCE = "reference"
    GATEWAY_REFERENCE = "gateway_reference"


@dataclass(frozen=True)
class DeliveryReport:
    """`status` is our status, or None for a provider state that decides nothing (queued, sent).

    `reference` is the key named by `matched_by`.
    """

    reference: str
    provider: str
    provider_status: str
    received_at: datetime
    status: str | None = None
    occurred_at: datetime | None = None
    report_id: str | None = None
    matched_by: MatchKey = MatchKey.REFERENCE
    # What only the provider and the message's recipient saw (an email's Message-ID, which a
    # bounce returns), where the report's channel is open to anyone: it must be the id the
    # shipment's row holds from the provider, or the report decides nothing. None: not asked.
    proof: str | None = None
