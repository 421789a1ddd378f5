"""Constant-time checks of the shared credentials that guard report routes."""

import base64
import binascii
import hmac
from urllib.parse import parse_qs, unquote, urlsplit

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
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


def require_code(url: str, secret: str) -> None:
    """Reports whose endpoint URL carries the shared secret as `?code=` (Event Grid, DSN relay).
    Read as a form (`+` a space) and as written (`+` itself): a base64 secret pasted into the
    endpoint's URL unencoded keeps its `+`, and one encoded as `%2B` matches either way."""
    spellings = (query_value(url, "code"), _raw_query_value(url, "code"))
    if not any(secret_matches(given, secret) for given in spellings):
        raise ReportRejected("no valid code")


def _raw_query_value(url: str, name: str) -> str | None:
    for part in urlsplit(url).query.split("&"):
        key, _, value = part.partition("=")
        if unquote(key) == name:
            return unquote(value)
    return None
