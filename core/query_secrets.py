"""Secrets that a caller can only put in a URL's query (Event Grid's and DSN relays' `?code=`),
kept out of the access log and the request's span, which both write the URL as it came."""

import logging
from typing import Any
from urllib.parse import unquote_plus

SECRET_PARAMETERS = frozenset({"code"})
HIDDEN = "[redacted]"
# Where the request's span keeps its URL, in the older and the stable HTTP conventions.
_URL_ATTRIBUTES = ("http.url", "url.full", "http.target")
_QUERY_ATTRIBUTES = ("url.query",)


def hidden_query(query: str) -> str:
    """The query as written, each secret parameter's value hidden, however its name is spelled
    (`%63ode` is `code` to the route, and `Code` may be the secret typed wrong)."""
    return "&".join(_hidden_pair(pair) for pair in query.split("&"))


def without_query_secrets(url: str) -> str:
    """A path or URL with the secrets of its query hidden."""
    base, sep, query = url.partition("?")
    return f"{base}?{hidden_query(query)}" if sep else url


class QuerySecretsFilter(logging.Filter):
    """For uvicorn's access log, whose record's arguments hold the path with its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                without_query_secrets(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def hide_in_span(span: Any, scope: dict[str, Any]) -> None:
    """An OpenTelemetry server request hook. The span holds the query percent-decoded, where
    a secret's `%26` reads as a separator: its URL is rebuilt from the query as it came."""
    if span is None or not span.is_recording() or not scope.get("query_string"):
        return
    query = hidden_query(scope["query_string"].decode("latin-1"))
    attributes = dict(getattr(span, "attributes", None) or {})
    for key in _URL_ATTRIBUTES:
        if isinstance(attributes.get(key), str) and "?" in attributes[key]:
            span.set_attribute(key, f"{attributes[key].partition('?')[0]}?{query}")
    for key in _QUERY_ATTRIBUTES:
        if key in attributes:
            span.set_attribute(key, query)


def _hidden_pair(pair: str) -> str:
    name, sep, _ = pair.partition("=")
    return f"{name}={HIDDEN}" if sep and unquote_plus(name).lower() in SECRET_PARAMETERS else pair
