"""SMS text counted as the network counts it, and what each provider carries as given."""

import pytest

from domain.sms import SmsCapacity, units
from gateways.linkmobility import CAPACITY as LINK_MOBILITY
from gateways.twilio import CAPACITY as TWILIO


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", 0),
        ("a" * 160, 160),
        ("€" * 80, 160),  # extension characters take two septets
        ("ø" * 160, 160),  # in the GSM basic set
        ("ł" * 70, 70),  # not in it: UCS-2
        ("😀" * 35, 70),  # a surrogate pair is two UCS-2 units
        ("a😀", 3),  # one character outside GSM makes the whole text UCS-2
    ],
)
def test_units(body: str, expected: int) -> None:
    assert units(body) == expected


@pytest.mark.parametrize(
    ("capacity", "fits", "too_long", "size", "limit"),
    [
        (LINK_MOBILITY, "x" * 2144, "x" * 2145, 2145, 2144),  # 16 parts of 134
        # Its text mode has no extension table: `€` makes the whole text UCS-2.
        (LINK_MOBILITY, "€" * 1072, "€" * 1072 + "x", 1073, 1072),
        (LINK_MOBILITY, "ł" * 1072, "ł" * 1073, 1073, 1072),  # 16 parts of 67
        (LINK_MOBILITY, "😀" * 536, "😀" * 536 + "ł", 1073, 1072),
        (TWILIO, "x" * 1600, "x" * 1601, 1601, 1600),
        (TWILIO, "ł" * 1600, "ł" * 1601, 1601, 1600),
    ],
)
def test_bodies_up_to_the_providers_capacity(
    capacity: SmsCapacity, fits: str, too_long: str, size: int, limit: int
) -> None:
    assert capacity.body_fault(fits) is None
    fault = capacity.body_fault(too_long)
    assert fault is not None
    assert f"is {size} " in fault
    assert f"{capacity.provider} carries at most {limit} " in fault


@pytest.mark.parametrize(
    "sender", ["Altinn", "ABCDEFGHIJK", "Bank 2", "4790000000", "+4790000000", "123456789012345"]
)
def test_senders_every_provider_carries(sender: str) -> None:
    assert LINK_MOBILITY.sender_fault(sender) is None
    assert TWILIO.sender_fault(sender) is None


@pytest.mark.parametrize(
    ("sender", "link_mobility", "twilio"),
    [
        ("(TEST) SMS", True, False),  # Link Mobility lists ( ) among its characters
        ("Kari_Nordm", False, True),  # Twilio lists _
        ("Bank & Co", True, True),
        ("Bærum", False, False),  # neither takes national letters
        ("12345", True, True),  # a number
        ("1234567890123456", False, False),  # a number too long for E.164
        ("(TEST) Instant SMS Test", False, False),  # 23: no phone shows more than 11
        ("Altinn\n", False, False),
        ("   ", False, False),
    ],
)
def test_senders_by_provider(sender: str, link_mobility: bool, twilio: bool) -> None:
    assert (LINK_MOBILITY.sender_fault(sender) is None) is link_mobility
    assert (TWILIO.sender_fault(sender) is None) is twilio
