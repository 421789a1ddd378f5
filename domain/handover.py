"""What a gateway said about one handover."""

from dataclasses import dataclass, field
from datetime import datetime

from domain.reports import DeliveryReport


@dataclass(frozen=True)
class HandoverResult:
    """Accepted (a non-final status with the gateway's reference) or refused (a final status)."""

    status: str
    at: datetime
    gateway_reference: str | None = None
    detail: str | None = None
    # Set when the handover also recorded its own outcome in the store: then `recorded_at` is
    # that worker's clock, and `held_reports` the reports that were waiting for the record.
    recorded: bool = False
    recorded_at: datetime | None = None
    held_reports: list[DeliveryReport] = field(default_factory=list)
    # From that record: the tenant has webhook subscriptions; the feed entry of a final status.
    webhooks: bool = False
    sequence_number: int | None = None
    # The provider that took (or refused) the message.
    provider: str | None = None
