"""Log format for every process; message bodies and tokens are never passed to a logger."""

import json
import logging
from datetime import UTC, datetime
from typing import Literal

from core.query_secrets import QuerySecretsFilter
from core.tracing import current_ids

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# uvicorn gives its loggers their own text handlers; JSON output needs them on ours.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class JsonLines(logging.Formatter):
    """One JSON object per line, with the trace and span id of the span that logged it.

    Handlers format in the thread that logs, so the current span is the logging code's span.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ids = current_ids()
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: Literal["text", "json"] = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    if log_format == "json":
        for name in _UVICORN_LOGGERS:
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QuerySecretsFilter) for f in access.filters):
        access.addFilter(QuerySecretsFilter())
    # httpx logs every request URL at INFO; one line per handover is noise, not signal.
    logging.getLogger("httpx").setLevel(logging.WARNING)
