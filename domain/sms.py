"""How many SMS segments a body takes (GSM 03.38 or UCS-2), so bodies can be bounded honestly."""

import math

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

MAX_SEGMENTS = 16


def is_gsm7(body: str) -> bool:
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body)


def international_digits(phone_number: str) -> str:
    """The number without its `+` or `00` prefix and without separators: 4791234567."""
    digits = "".join(ch for ch in phone_number if ch.isdigit())
    return digits.removeprefix("00") if phone_number.lstrip().startswith("00") else digits


def segments(body: str) -> int:
    """Concatenated messages lose room to the UDH: 153 GSM septets or 67 UCS-2 units a part."""
    if is_gsm7(body):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in body)
        single, part = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, part = 70, 67
    return 1 if units <= single else math.ceil(units / part)
