"""The payload converter of every client and worker: the SDK's, with pydantic's JSON."""

from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

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
