"""The codec server's work: open sealed payloads and redact what they carry (decode), or seal
payloads (encode), with the keys of PAYLOAD_ENCRYPTION_KEY."""

import logging

from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from core.codec import EncryptionCodec, parse_keyring
from core.redaction import redact

log = logging.getLogger(__name__)


class CodecService:
    def __init__(self, keyring_spec: str) -> None:
        keyring = parse_keyring(keyring_spec)
        self._codec = EncryptionCodec(keyring) if keyring else None

    async def decode(self, payloads: list[Payload]) -> list[Payload]:
        """Each payload opened where a key fits, then redacted; one that does not open stays
        sealed (the UI shows it as such) rather than failing the others."""
        return [redact(await self._open(payload)) for payload in payloads]

    async def encode(self, payloads: list[Payload]) -> list[Payload]:
        if self._codec is None:
            return payloads
        return await self._codec.encode(payloads)

    async def _open(self, payload: Payload) -> Payload:
        if self._codec is None:
            return payload
        try:
            return (await self._codec.decode([payload]))[0]
        except (ValueError, InvalidTag, KeyError) as exc:
            # ValueError: also a nonce too short and a key id that is not UTF-8 (KeyringError
            # is one too); none of them is the caller's other payloads' fault.
            log.warning("a payload stays sealed: %s", type(exc).__name__)
            return payload
