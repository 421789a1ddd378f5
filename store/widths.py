"""What providers say, fitted to the columns that keep it.

PostgreSQL refuses a value longer than its column, or one holding NUL, and a refused write of a
report is retried without end; SQLite would keep it whole. Every write of provider text passes
through here, so no reader, present or future, has to know the widths, and both databases keep
the same.
"""

import hashlib
from collections.abc import Mapping
from typing import Any

from store.models import MAX_DETAIL, MAX_PROVIDER_ID, MAX_PROVIDER_STATUS

_DIGEST = 40  # hex characters of SHA-256, as a batch's delivery id has
_NUL = "\x00"


def storable(text: str) -> str:
    """Text as PostgreSQL can keep it: a NUL becomes U+FFFD, as undecodable bytes do."""
    return text.replace(_NUL, "\ufffd")


def _clipped(text: str | None, width: int) -> str | None:
    """A status or a reason: its start says what it is."""
    return None if text is None else storable(text)[:width]


def fitted_id(value: str) -> str:
    """An id as its column keeps it: a longer one becomes its start and a digest of the whole.

    Ids are matched (a report to its shipment, a replayed webhook to its first delivery):
    cut short, two ids that share their start would become one, and a report would be taken
    for another's. The same id always fits the same way, so a lookup fits it as its write did.
    One holding NUL takes the digest too, so that it stays apart from one spelled with U+FFFD.
    """
    if len(value) <= MAX_PROVIDER_ID and _NUL not in value:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST]
    return f"{storable(value)[: MAX_PROVIDER_ID - _DIGEST - 1]}~{digest}"


def fitted_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event's columns (ShipmentEvent's) with the provider's text fitted."""
    fitted = dict(event)
    fitted["provider_status"] = _clipped(event.get("provider_status"), MAX_PROVIDER_STATUS)
    report_id = event.get("report_id")
    fitted["report_id"] = report_id and fitted_id(report_id)
    fitted["detail"] = _clipped(event.get("detail"), MAX_DETAIL)
    return fitted
