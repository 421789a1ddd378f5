"""The body of an event: `{"type", "timestamp", "data"}`, data in the API's own shapes."""

import json

from api.schemas.shipments import FeedEntryOut, ManifestOut
from domain.webhooks import EventType, WebhookEvent


def event_body(event: WebhookEvent) -> str:
    """`shipment.completed` carries the feed entry as the feed route serializes it (with its
    `sequenceNumber`); `shipment.accepted` the manifest as the shipment route does."""
    if event.type is EventType.COMPLETED and event.sequence_number is not None:
        shape: FeedEntryOut | ManifestOut = FeedEntryOut.of(event.sequence_number, event.manifest)
    else:
        shape = ManifestOut.of(event.manifest)
    data = shape.model_dump(mode="json", by_alias=True, exclude_none=True)
    timestamp = event.occurred_at.isoformat().replace("+00:00", "Z")
    return json.dumps(
        {"type": str(event.type), "timestamp": timestamp, "data": data}, separators=(",", ":")
    )
