"""Field rules shared by the order bodies: phone numbers, email addresses, text limits."""

import re
import unicodedata

import phonenumbers

from domain.recipients import is_mail_domain

MAX_IDEMPOTENCY_ID = 255
MAX_SENDERS_REFERENCE = 1024
# Altinn and ACS set none; RFC 5322 folding carries any length. The bound keeps a subject's
# encoded form (at most ~11 KB) far below what mail servers take for all headers together
# (sendmail's default MaxHeadersLength is 32768 bytes, Postfix's header_size_limit 102400).
MAX_SUBJECT = 2000
MAX_EMAIL_BODY = 60_000
MAX_EMAIL_ADDRESS = 254

_LOCAL_ATOM = r"[A-Za-z0-9æøåÆØÅ!#$%&'*+\-=?^_`{|}~]+"
_LOCAL_PART = re.compile(rf"{_LOCAL_ATOM}(?:\.{_LOCAL_ATOM})*")
# After the `+` or `00`: ASCII digits and the usual separators. libphonenumber also reads
# extensions (`;ext=5`, ` x5`) and non-ASCII digits, which the gateways' digit strings cannot carry.
_PHONE_CHARACTERS = re.compile(r"(?:\+|00)[0-9 ()./-]+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def is_valid_phone(number: str) -> bool:
    """`+` or `00` then a number libphonenumber knows as valid for its country."""
    if not _PHONE_CHARACTERS.fullmatch(number):
        return False
    if number.startswith("00"):
        candidate = "+" + number[2:]
    elif number.startswith("+") and not number.startswith("++"):
        candidate = number
    else:
        return False
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(candidate, None)))
    except phonenumbers.NumberParseException:
        return False


def is_valid_email(address: str) -> bool:
    """One address with a real domain: no `user@localhost`, no `;`-lists, no quoted local parts,
    and no RFC 2047 encoded word (`=?utf-8?q?…?=`), which mail programs decode in a header into
    another address (`From: Bank <ceo@bank.com>@example.no`)."""
    local, _, domain = address.partition("@")
    return (
        len(address) <= MAX_EMAIL_ADDRESS
        and len(local) <= 64
        and bool(_LOCAL_PART.fullmatch(local))
        and "=?" not in local
        and is_mail_domain(domain)
    )


def is_unicode(text: str) -> bool:
    """JSON can escape half a surrogate pair (`"\\ud800"`); such a string cannot be encoded."""
    return not _SURROGATE.search(text)


def breaks_lines(text: str) -> bool:
    """Unicode's line and paragraph separators, which an email header cannot carry either."""
    return "\u2028" in text or "\u2029" in text


def has_control_characters(text: str, *, allow_newlines: bool) -> bool:
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)
