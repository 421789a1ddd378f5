"""SMS segment counting: GSM 03.38 septets, extension characters, UCS-2 units."""

import pytest

from domain.sms import segments


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("ø" * 160, 1),  # in the GSM basic set
        ("ł" * 70, 1),  # not in it: UCS-2
        ("ł" * 71, 2),
        ("😀" * 35, 1),  # a surrogate pair is two UCS-2 units
        ("😀" * 36, 2),
        ("a" * 2448, 16),
    ],
)
def test_segments(body: str, expected: int) -> None:
    assert segments(body) == expected
