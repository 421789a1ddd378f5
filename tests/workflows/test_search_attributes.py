"""SendersReference as a search attribute: as much of the reference as every visibility store
takes, cut between characters; measured on the payload the SDK sends, as Temporal measures it."""

from datetime import UTC, datetime

import pytest
from temporalio.converter import encode_typed_search_attribute_value

from domain.orders import NotificationInput, SmsMessage, Timing
from workflows import search_attributes as sa


def encoded_size(value: str) -> int:
    return len(encode_typed_search_attribute_value(sa.SENDERS_REFERENCE, value).data)


def order(reference: str | None) -> NotificationInput:
    return NotificationInput(
        org="ttd",
        idempotency_id="key",
        request_id="request",
        fingerprint="f",
        timing=Timing(300, 60, 10.0, 5.0, answer_by=datetime(2026, 3, 1, tzinfo=UTC)),
        senders_reference=reference,
        sms=SmsMessage("+4791234567", "Altinn", "Your code is 123456"),
    )


@pytest.mark.parametrize("reference", ["case-1", "r" * 255, "€" * 255, "😀" * 170, '"\\' * 127])
def test_a_reference_that_fits_is_carried_whole(reference: str) -> None:
    assert sa.keyword(reference) == reference


@pytest.mark.parametrize(
    ("reference", "kept"),
    [
        ("r" * 1024, "r" * 255),  # a VARCHAR(255) of the SQL visibility stores
        ("€" * 1024, "€" * 255),  # 6 bytes each, escaped: 1532
        ("😀" * 1024, "😀" * 170),  # 12 bytes each, escaped: 2042 of 2048
        ("r" * 20 + "😀" * 300, "r" * 20 + "😀" * 168),
    ],
)
def test_a_longer_reference_is_cut_to_the_budget(reference: str, kept: str) -> None:
    cut = sa.keyword(reference)

    assert cut == kept
    assert encoded_size(cut) <= sa.KEYWORD_BYTES
    assert len(cut) <= sa.KEYWORD_CHARACTERS


def test_the_cut_keeps_as_much_as_fits() -> None:
    reference = "a" + "😀" * 300
    cut = sa.keyword(reference)

    assert encoded_size(cut) <= sa.KEYWORD_BYTES < encoded_size(reference[: len(cut) + 1])


def test_the_start_carries_the_cut_reference() -> None:
    pairs = {p.key.name: p.value for p in sa.at_start(order("€" * 1024), "shipment")}

    assert pairs["SendersReference"] == "€" * 255
    assert "SendersReference" not in {p.key.name for p in sa.at_start(order(None), "shipment")}
