"""Search attributes that make a shipment findable in the Temporal UI and CLI."""

import bisect
from collections.abc import Sequence

from temporalio.common import SearchAttributeKey, SearchAttributePair, SearchAttributeUpdate
from temporalio.converter import encode_typed_search_attribute_value

from domain.orders import NotificationInput
from domain.statuses import sending

SHIPMENT_ID = SearchAttributeKey.for_keyword("ShipmentId")
SHIPMENT_STATUS = SearchAttributeKey.for_keyword("ShipmentStatus")
NOTIFICATION_CHANNEL = SearchAttributeKey.for_keyword("NotificationChannel")
CREATOR = SearchAttributeKey.for_keyword("Creator")
SENDERS_REFERENCE = SearchAttributeKey.for_keyword("SendersReference")
# The provider that took the message (or refused it), set once the handover answered.
PROVIDER = SearchAttributeKey.for_keyword("Provider")

# SendersReference carries as much of the reference (up to 1024 characters) as every visibility
# store takes; the shipment keeps the whole reference.
# The SQL visibility stores (PostgreSQL, as deployed, and MySQL) keep a Keyword in a VARCHAR(255)
# column: a longer value fails the visibility record, and the workflow cannot be listed at all.
KEYWORD_CHARACTERS = 255
# Temporal refuses a start or an upsert with a value of more than 2048 bytes
# (`frontend.searchAttributesSizeOfValueLimit`), counted on the payload the SDK sends: JSON with
# every non-ASCII character escaped, 6 bytes for `€` and 12 for an emoji (255 are 3062 bytes).
KEYWORD_BYTES = 2048

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
        pairs.append(SearchAttributePair(SENDERS_REFERENCE, keyword(order.senders_reference)))
    return pairs


def keyword(value: str) -> str:
    """The longest start of `value`, cut between characters, that every visibility store
    takes as a Keyword."""
    kept = value[:KEYWORD_CHARACTERS]
    if _fits(kept):
        return kept
    # The encoded size grows with every character: the first one that takes it over, by halves.
    first_over = bisect.bisect_left(range(len(kept)), True, key=lambda n: not _fits(kept[: n + 1]))
    return kept[:first_over]


def _fits(value: str) -> bool:
    encoded = encode_typed_search_attribute_value(SENDERS_REFERENCE, value)
    return len(encoded.data) <= KEYWORD_BYTES


def upserts(pairs: Sequence[SearchAttributePair[str]]) -> list[SearchAttributeUpdate[str]]:
    """The same values as a workflow sets them on itself."""
    return [pair.key.value_set(pair.value) for pair in pairs]
