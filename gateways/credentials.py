"""Constant-time checks of the shared credentials that guard report routes."""

import base64
import binascii
import hmac
from urllib.parse import unquote, unquote_plus, urlsplit

from gateways.base import ReportRejected


def secret_matches(given: str | None, expected: str) -> bool:
    """An unset secret matches nothing, so an unconfigured provider accepts no report."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def basic_auth_matches(authorization: str | None, username: str, password: str) -> bool:
    if not username or not password or not authorization:
        return False
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(given, f"{username}:{password}".encode())


def query_value(url: str, name: str) -> str | None:
    """The first non-blank value of `name` in the URL's query, decoded as a form's."""
    raw = _written_value(url, name)
    return unquote_plus(raw) if raw else None


def require_code(url: str, secret: str) -> None:
    """Reports whose endpoint URL carries the shared secret as `?code=` (Event Grid, DSN relay).
    Read as a form (`+` a space) and as written (`+` itself): a base64 secret pasted into the
    endpoint's URL unencoded keeps its `+`, and one encoded as `%2B` matches either way."""
    given = _written_value(url, "code")
    spellings = (unquote_plus(given), unquote(given)) if given else ()
    if not any(secret_matches(spelling, secret) for spelling in spellings):
        raise ReportRejected("no valid code")


def _written_value(url: str, name: str) -> str | None:
    """The first non-blank value of `name`, still percent-encoded."""
    for part in urlsplit(url).query.split("&"):
        key, _, value = part.partition("=")
        if value and unquote_plus(key) == name:
            return value
    return None
