"""Which handset or mailbox an order's destination reaches, however the caller wrote it: what
the per-recipient rate limit counts by. The destination itself is kept and shown as given.
And which domains an address may be at, in one form however written."""

import re

from domain.orders import Channel
from domain.sms import e164

# A domain an address may be at: labels of ASCII letters (and æøå), digits and `-`, and a
# top-level domain of 2 to 14 letters; or a dotted quad of ASCII digits (`\d` would take any
# script's digits, which IDNA then turns into ASCII ones or a name: another address).
_LABEL = r"[A-Za-z0-9æøåÆØÅ](?:[A-Za-z0-9æøåÆØÅ-]{0,61}[A-Za-z0-9æøåÆØÅ])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.){{1,9}}[A-Za-z]{{2,14}}|[0-9]{{1,3}}(?:\.[0-9]{{1,3}}){{3}}")


def recipient_key(channel: str, destination: str) -> str:
    """`+47 912 34 567`, `0047-91234567` and `+4791234567` are one handset, as the gateways
    send all three to it; `Kari+1@Example.NO` and `kari@example.no` are one mailbox."""
    if channel == Channel.SMS:
        return e164(destination)
    return _mailbox(destination)


def is_mail_domain(domain: str) -> bool:
    """The rule for an address's domain (an order's recipient and sender, and the sender
    domains a deployment lists). A label of 63 letters like `ø` passes the pattern but is
    longer than DNS allows once written in its ASCII (IDNA) form, the form it is mailed in."""
    if not _DOMAIN.fullmatch(domain):
        return False
    try:
        domain.encode("idna")
    except UnicodeError:
        return False
    return True


def mail_domain(address: str) -> str:
    """The domain of `address`, or a domain alone, in one form however it was written: lower
    case, Unicode rather than IDNA (`Bølgen.NO` and `xn--blgen-vua.no` are one)."""
    return _unicode_domain(address.lower().rpartition("@")[2])


def _mailbox(address: str) -> str:
    """The whole address lower-cased, without a `+tag`. Domains ignore case (RFC 5321 2.4). A
    host may in theory tell local parts apart by case, but the mail services in use do not,
    and Gmail, Outlook, iCloud and Fastmail deliver `kari+1@` to `kari@` (RFC 5233's
    subaddress): a caller could otherwise multiply the limit by writing one mailbox in
    different cases or tags; the rare host that tells them apart would only have them share
    one limit. The message still goes to the address as given."""
    local = address.lower().rpartition("@")[0]
    mailbox, tagged, _ = local.partition("+")
    return f"{mailbox if tagged and mailbox else local}@{mail_domain(address)}"


def _unicode_domain(domain: str) -> str:
    """`bølgen.no` and its ASCII (IDNA) form `xn--blgen-vua.no`, in which the SMTP gateway
    mails it, are one domain. The Unicode form is the key's: it is never longer than the
    address as given, so the key fits wherever the destination does. (`domain` is lower-case
    already: Python decodes only a lower-case `xn--`.)"""
    try:
        return domain.encode("idna").decode("idna")
    except UnicodeError:  # an `xn--` label that is not valid Punycode: no other form to match
        return domain
