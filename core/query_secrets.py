"""Secrets that a caller can only put in a URL's query (Event Grid's and DSN relays' `?code=`),
kept out of the access log and the request's span, which both write the URL as it came."""

import logging
import re
from typing import Any

SECRET_PARAMETERS = ("code",)
HIDDEN = "[redacted]"
_SECRET = re.compile(rf"([?&](?:{'|'.join(SECRET_PARAMETERS)})=)[^&#\s\"]*")


def without_query_secrets(text: str) -> str:
    """A URL, or a line holding one, with each secret parameter's value hidden."""
    return _SECRET.sub(rf"\g<1>{HIDDEN}", text)


class QuerySecretsFilter(logging.Filter):
    """For uvicorn's access log, whose record's arguments hold the path with its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_hidden(arg) for arg in record.args)
        return True


def hide_in_span(span: Any, _scope: object) -> None:
    """An OpenTelemetry server request hook: the URL attributes the span already holds."""
    if span is None or not span.is_recording():
        return
    for key, value in dict(getattr(span, "attributes", None) or {}).items():
        if isinstance(value, str) and (hidden := without_query_secrets(value)) != value:
            span.set_attribute(key, hidden)


def _hidden(arg: object) -> object:
    return without_query_secrets(arg) if isinstance(arg, str) else arg
