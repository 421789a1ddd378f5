"""The payload converter of every client and worker: the SDK's, with pydantic's JSON."""

from typing import TypeVar

from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    value_to_type,
)

T = TypeVar("T")

# One for the process: the SDK makes a payload converter for each workflow run, and a JSON
# converter of its own would build pydantic's type adapters (about a millisecond each) anew
# for every run.
_JSON = PydanticJSONPlainPayloadConverter()


class PayloadConverter(CompositePayloadConverter):
    """JSON through pydantic's compiled (de)serialisers: the SDK's own reads a dataclass field
    by field in Python, about 1.3 ms of CPU per order for ours. Each reads the other's JSON, so
    histories written before read as they were written."""

    def __init__(self) -> None:
        super().__init__(
            *(
                _JSON if isinstance(converter, JSONPlainPayloadConverter) else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


def read_as(cls: type[T], value: object) -> T:
    """JSON read without its type (an error's details, a row's JSON column) as `cls`, as the
    SDK reads a dataclass: fields `cls` lacks, a newer release's during a rolling upgrade, are
    left out."""
    read: T = value_to_type(cls, value)
    return read
