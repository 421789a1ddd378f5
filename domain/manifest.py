"""The delivery manifest of one shipment: what the GET route and the workflow query both return."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StatusRequest:
    """The `status` query takes no arguments; this keeps its signature one dataclass in."""


@dataclass(frozen=True)
class ShipmentManifest:
    """One shipment has one recipient, so the order and the recipient share `last_update`."""

    shipment_id: str
    senders_reference: str | None
    order_status: str
    channel: str
    destination: str
    status: str
    last_update: datetime
