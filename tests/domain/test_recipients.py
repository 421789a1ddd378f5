"""One handset or mailbox, however the caller wrote it: what the recipient limit counts by."""

import pytest

from domain.orders import Channel
from domain.recipients import recipient_key
from domain.sms import international_digits


@pytest.mark.parametrize(
    "written",
    [
        "+4791234567",
        "004791234567",
        "+47 91234567",
        "+47 912 34 567",
        "0047-91234567",
        "0047 (912) 34.567",
        "+47/912/34/567",
    ],
)
def test_a_number_is_one_key_however_it_is_written(written: str) -> None:
    assert recipient_key(Channel.SMS, written) == "+4791234567"


@pytest.mark.parametrize(
    ("written", "handset"),
    [
        ("+44 07911 123456", "+447911123456"),  # a trunk prefix after the country code
        ("+44 (0) 7911 123456", "+447911123456"),
        ("+55 015 11 954773439", "+5511954773439"),  # a carrier selection code
        ("+55 011954773439", "+5511954773439"),
        ("+7 8 912 345 67 89", "+79123456789"),
    ],
)
def test_a_prefix_within_the_number_is_no_other_handset(written: str, handset: str) -> None:
    """Each is a valid number to libphonenumber, and each would otherwise count afresh
    against the recipient limit."""
    assert recipient_key(Channel.SMS, written) == handset


@pytest.mark.parametrize("written", ["+4791234567", "0047 912 34 567", "+44 (0) 7911 123456"])
def test_the_key_of_a_number_is_what_the_gateways_send(written: str) -> None:
    assert recipient_key(Channel.SMS, written) == "+" + international_digits(written)


def test_different_numbers_keep_different_keys() -> None:
    assert recipient_key(Channel.SMS, "+4791234567") != recipient_key(Channel.SMS, "+4791234568")
    assert recipient_key(Channel.SMS, "+4791234567") != recipient_key(Channel.SMS, "+4691234567")


@pytest.mark.parametrize(
    "written",
    [
        "kari.nordmann@example.no",
        "Kari.Nordmann@example.no",
        "kari.nordmann@EXAMPLE.NO",
        "KARI.NORDMANN@Example.No",
    ],
)
def test_an_address_is_one_key_whatever_its_case(written: str) -> None:
    assert recipient_key(Channel.EMAIL, written) == "kari.nordmann@example.no"


@pytest.mark.parametrize(
    "written",
    ["kari@bølgen.no", "kari@BØLGEN.no", "kari@xn--blgen-vua.no", "KARI@XN--BLGEN-VUA.NO"],
)
def test_a_national_domain_and_its_ascii_form_are_one_key(written: str) -> None:
    assert recipient_key(Channel.EMAIL, written) == "kari@bølgen.no"


@pytest.mark.parametrize("written", ["kari+1@example.no", "Kari+login+2@example.no"])
def test_a_subaddress_is_its_mailbox(written: str) -> None:
    assert recipient_key(Channel.EMAIL, written) == "kari@example.no"


def test_a_local_part_that_starts_with_a_plus_is_kept_whole() -> None:
    assert recipient_key(Channel.EMAIL, "+kari@example.no") == "+kari@example.no"


def test_the_local_part_keeps_its_national_letters() -> None:
    assert recipient_key(Channel.EMAIL, "ÆRLIG.Øen@example.no") == "ærlig.øen@example.no"


def test_an_ascii_label_that_is_not_punycode_is_kept_as_written() -> None:
    assert recipient_key(Channel.EMAIL, "Kari@XN--ZZ-.no") == "kari@xn--zz-.no"


def test_different_addresses_keep_different_keys() -> None:
    assert recipient_key(Channel.EMAIL, "kari@example.no") != recipient_key(
        Channel.EMAIL, "kari@example.se"
    )
    assert recipient_key(Channel.EMAIL, "kari@example.no") != recipient_key(
        Channel.EMAIL, "kari1@example.no"
    )
