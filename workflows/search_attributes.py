"""Search attributes that make a shipment findable in the Temporal UI and CLI."""

from collections.abc import Sequence

from temporalio.common import SearchAttributeKey, SearchAttributePair, SearchAttributeUpdate

from domain.orders import NotificationInput
from domain.statuses import sending

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


def at_start(order: NotificationInput, shipment_id: str) -> list[SearchAttributePair[str]]:
    """What a shipment is found by from its start: given with the start request, they cost
    Temporal no visibility update of their own (each upsert is one, with every index of the
    visibility store written again)."""
    pairs = [
        SearchAttributePair(SHIPMENT_ID, shipment_id),
        SearchAttributePair(SHIPMENT_STATUS, sending(order.channel)),
        SearchAttributePair(NOTIFICATION_CHANNEL, str(order.channel)),
        SearchAttributePair(CREATOR, order.org),
    ]
    if order.senders_reference:
        pairs.append(SearchAttributePair(SENDERS_REFERENCE, order.senders_reference))
    return pairs


def upserts(pairs: Sequence[SearchAttributePair[str]]) -> list[SearchAttributeUpdate[str]]:
    """The same values as a workflow sets them on itself."""
    return [pair.key.value_set(pair.value) for pair in pairs]
