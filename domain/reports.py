"""A delivery report as the workflow sees it, whatever gateway it came from."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DeliveryReport:
    """`status` is our status, or None for a provider state that decides nothing (queued, sent)."""

    reference: str
    provider: str
    provider_status: str
    received_at: datetime
    status: str | None = None
    occurred_at: datetime | None = None
    report_id: str | None = None
