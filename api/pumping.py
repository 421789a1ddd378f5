"""Against SMS pumping, before anything is sent: numbers of countries not allowed
(`SMS_ALLOWED_COUNTRIES`), and numbers of types that cannot receive a login code and are the
tools of toll fraud (premium rate, shared cost, UAN, voicemail, pager)."""

import phonenumbers
from phonenumbers import PhoneNumberType

from api.problems import invalid
from core.metrics import count_refused_recipient

# libphonenumber's number types that are refused, as the caller reads them.
REFUSED_TYPES: dict[int, str] = {
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.UAN: "a universal access number (UAN)",
    PhoneNumberType.VOICEMAIL: "a voicemail access number",
    PhoneNumberType.PAGER: "a pager number",
}


def refusal(number: str, allowed_countries: list[str]) -> tuple[str, str] | None:
    """(reason, message) when the number is refused; None when it may be sent to. `number`
    has passed validation: `+` or `00`, and valid for its country."""
    parsed = phonenumbers.parse("+" + number[2:] if number.startswith("00") else number, None)
    country = phonenumbers.region_code_for_number(parsed)
    if allowed_countries and country not in allowed_countries:
        where = "a number without a country" if country == "001" else f"a number of {country}"
        return "country", f"SMS is not sent to {where} by this service."
    kind = REFUSED_TYPES.get(phonenumbers.number_type(parsed))
    if kind is not None:
        return "number_type", f"SMS is not sent to {kind}: it cannot receive a message."
    return None


def check_recipient(number: str, allowed_countries: list[str], field: str) -> None:
    """Raise a 400 naming `field` for a refused number, and count it."""
    refused = refusal(number, allowed_countries)
    if refused is None:
        return
    reason, message = refused
    count_refused_recipient(reason)
    raise invalid({field: [message]})
