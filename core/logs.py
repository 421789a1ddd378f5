"""Log format for every process; message bodies and tokens are never passed to a logger."""

import logging


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL at INFO; one line per handover is noise, not signal.
    logging.getLogger("httpx").setLevel(logging.WARNING)
