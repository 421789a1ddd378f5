"""What a gateway said about one handover."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class HandoverResult:
    """Accepted (a non-final status with the gateway's reference) or refused (a final status)."""

    status: str
    at: datetime
    gateway_reference: str | None = None
    detail: str | None = None
