"""How an SMS body is counted (GSM 03.38 septets or UCS-2 units), and what a provider carries as
given: bodies and senders beyond that would be cut off or refused on the way."""

import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

# An alphanumeric sender (GSM TP-OA, 3GPP TS 23.040 9.1.2.5) is at most 11 characters; a
# numeric one is an international number of at most 15 digits (E.164).
MAX_SENDER_NAME = 11
_SENDER_NUMBER = re.compile(r"\+?[0-9]{1,15}")


def is_sender_number(sender: str) -> bool:
    return bool(_SENDER_NUMBER.fullmatch(sender))


def is_gsm7(body: str) -> bool:
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body)


def is_gsm7_basic(body: str) -> bool:
    r"""GSM 03.38's basic set only: no character of its extension table (`€ [ ] { } | ^ ~ \`)."""
    return all(ch in _GSM_BASIC for ch in body)


def international_digits(phone_number: str) -> str:
    """The number's digits as E.164 has them, without the `+`: 4791234567. A trunk prefix or
    carrier code written after the country code (`+44 07911 123456`, `+55 015 11 9…`) is no
    part of it: libphonenumber reads such a number as valid, and it is the same handset."""
    digits = "".join(ch for ch in phone_number if ch.isdigit())
    if phone_number.lstrip().startswith("00"):
        digits = digits.removeprefix("00")
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return digits
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]


def e164(phone_number: str) -> str:
    """The number as every gateway sends it, whichever way it was written: +4791234567."""
    return "+" + international_digits(phone_number)


def units(body: str, as_text: Callable[[str], bool] = is_gsm7) -> int:
    """GSM septets (an extension character takes two) where `as_text` sends the body as GSM
    text, else UCS-2 units."""
    if as_text(body):
        return sum(2 if ch in _GSM_EXTENDED else 1 for ch in body)
    return len(body.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class SmsCapacity:
    """What one SMS provider carries as given, from its documentation."""

    provider: str
    gsm_septets: int
    ucs2_units: int
    # Besides the ASCII letters, digits and space, what a sender name may contain.
    sender_punctuation: str
    # Which bodies the provider sends as GSM text; it sends any other as UCS-2.
    as_text: Callable[[str], bool] = is_gsm7

    def body_fault(self, body: str) -> str | None:
        gsm = self.as_text(body)
        size = units(body, self.as_text)
        limit = self.gsm_septets if gsm else self.ucs2_units
        if size <= limit:
            return None
        kind = (
            "GSM characters"
            if gsm
            else f"UCS-2 units, as {self.provider} cannot send all of it as GSM 03.38 text,"
        )
        return (
            f"The SMS body is {size} {kind} long; {self.provider} carries at most {limit} "
            "and would cut off the rest."
        )

    def sender_fault(self, sender: str) -> str | None:
        if is_sender_number(sender):
            return None
        if len(sender) > MAX_SENDER_NAME:
            return (
                f"The sender is {len(sender)} characters long; a phone shows at most "
                f"{MAX_SENDER_NAME} (or a number of at most 15 digits), so {self.provider} "
                "would cut it off or refuse the message."
            )
        allowed = re.escape(self.sender_punctuation)
        if not re.fullmatch(rf"(?=.*[A-Za-z])[A-Za-z0-9 {allowed}]+", sender):
            return (
                f"A sender name through {self.provider} has at least one letter and only "
                f"A-Z, a-z, 0-9, space and {self.sender_punctuation} (no national letters)."
            )
        return None
