"""Bodies of the shipment manifest and the status feed."""

from datetime import datetime
from typing import Any, Literal

from api.schemas.orders import ApiModel
from domain.manifest import ShipmentManifest


class RecipientOut(ApiModel):
    type: str
    destination: str
    status: str
    last_update: datetime


def _shipment(manifest: ShipmentManifest) -> dict[str, Any]:
    """What the manifest and a feed entry both say of a shipment."""
    recipient = RecipientOut(
        type=manifest.channel,
        destination=manifest.destination,
        status=manifest.status,
        last_update=manifest.last_update,
    )
    return {
        "shipment_id": manifest.shipment_id,
        "senders_reference": manifest.senders_reference,
        "status": manifest.order_status,
        "last_update": manifest.last_update,
        "recipients": [recipient],
    }


class ManifestOut(ApiModel):
    shipment_id: str
    senders_reference: str | None = None
    type: Literal["Instant"] = "Instant"
    status: str
    last_update: datetime
    recipients: list[RecipientOut]

    @classmethod
    def of(cls, manifest: ShipmentManifest) -> "ManifestOut":
        return cls(**_shipment(manifest))


class FeedEntryOut(ApiModel):
    sequence_number: int
    shipment_id: str
    senders_reference: str | None = None
    status: str
    last_update: datetime
    shipment_type: Literal["Instant"] = "Instant"
    recipients: list[RecipientOut]

    @classmethod
    def of(cls, sequence_number: int, snapshot: ShipmentManifest) -> "FeedEntryOut":
        return cls(sequence_number=sequence_number, **_shipment(snapshot))
