"""Bodies of the shipment manifest and the status feed."""

from datetime import datetime
from typing import Literal

from api.schemas.orders import ApiModel
from domain.manifest import ShipmentManifest
from store.models import FeedEntry


class RecipientOut(ApiModel):
    type: str
    destination: str
    status: str
    last_update: datetime


class ManifestOut(ApiModel):
    shipment_id: str
    senders_reference: str | None = None
    type: Literal["Instant"] = "Instant"
    status: str
    last_update: datetime
    recipients: list[RecipientOut]

    @classmethod
    def of(cls, manifest: ShipmentManifest) -> "ManifestOut":
        return cls(
            shipment_id=manifest.shipment_id,
            senders_reference=manifest.senders_reference,
            status=manifest.order_status,
            last_update=manifest.last_update,
            recipients=[
                RecipientOut(
                    type=manifest.channel,
                    destination=manifest.destination,
                    status=manifest.status,
                    last_update=manifest.last_update,
                )
            ],
        )


class FeedEntryOut(ApiModel):
    sequence_number: int
    shipment_id: str
    senders_reference: str | None = None
    status: str
    last_update: datetime
    shipment_type: Literal["Instant"] = "Instant"
    recipients: list[RecipientOut]

    @classmethod
    def of(cls, entry: FeedEntry) -> "FeedEntryOut":
        assert entry.seq is not None
        return cls(
            sequence_number=entry.seq,
            shipment_id=entry.shipment_id,
            senders_reference=entry.senders_reference,
            status=entry.order_status,
            last_update=entry.last_update,
            recipients=[
                RecipientOut(
                    type=entry.channel,
                    destination=entry.destination,
                    status=entry.status,
                    last_update=entry.last_update,
                )
            ],
        )
