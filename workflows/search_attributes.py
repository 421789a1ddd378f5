"""Search attributes that make a shipment findable in the Temporal UI and CLI."""

from temporalio.common import SearchAttributeKey

SHIPMENT_ID = SearchAttributeKey.for_keyword("ShipmentId")
SHIPMENT_STATUS = SearchAttributeKey.for_keyword("ShipmentStatus")
NOTIFICATION_CHANNEL = SearchAttributeKey.for_keyword("NotificationChannel")
CREATOR = SearchAttributeKey.for_keyword("Creator")
SENDERS_REFERENCE = SearchAttributeKey.for_keyword("SendersReference")
# The provider that took the message (or refused it), set once the handover answered.
PROVIDER = SearchAttributeKey.for_keyword("Provider")

ALL = (SHIPMENT_ID, SHIPMENT_STATUS, NOTIFICATION_CHANNEL, CREATOR, SENDERS_REFERENCE, PROVIDER)


def registration_flags() -> list[str]:
    """`temporal server start-dev` flags that register every key (all Keyword)."""
    return [f"--search-attribute={key.name}=Keyword" for key in ALL]
