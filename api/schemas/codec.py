"""Temporal's remote codec protocol: Payloads in protobuf's JSON form (bytes as base64)."""

import base64
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field
from temporalio.api.common.v1 import Payload

from api.schemas.orders import Unicode

# protobuf's JSON form accepts standard and URL-safe base64, with or without padding.
_BASE64 = r"^[A-Za-z0-9+/_-]*={0,2}$"


def _readable(value: str) -> str:
    decode(value)
    return value


Base64 = Annotated[str, Field(pattern=_BASE64), AfterValidator(_readable)]


def decode(value: str) -> bytes:
    standard = value.rstrip("=").replace("-", "+").replace("_", "/")
    return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)


def encode(value: bytes) -> str:
    return base64.b64encode(value).decode()


class PayloadJson(BaseModel):
    # protobuf's map keys are UTF-8: half a surrogate pair cannot be one.
    metadata: dict[Annotated[str, Unicode], Base64] = Field(default_factory=dict)
    data: Base64 = ""

    def payload(self) -> Payload:
        return Payload(
            metadata={key: decode(value) for key, value in self.metadata.items()},
            data=decode(self.data),
        )

    @classmethod
    def of(cls, payload: Payload) -> "PayloadJson":
        metadata = {key: encode(value) for key, value in payload.metadata.items()}
        return cls(metadata=metadata, data=encode(payload.data))


class PayloadsJson(BaseModel):
    """`{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}`"""

    payloads: list[PayloadJson] = Field(default_factory=list)

    def to_payloads(self) -> list[Payload]:
        return [item.payload() for item in self.payloads]

    @classmethod
    def of(cls, payloads: list[Payload]) -> "PayloadsJson":
        return cls(payloads=[PayloadJson.of(payload) for payload in payloads])
