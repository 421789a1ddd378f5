"""AES-GCM payload codec: message bodies are unreadable in Temporal's history and UI."""

import base64
import os
import re
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
_KEY_ID = "encryption-key-id"
_NONCE_BYTES = 12


class KeyringError(ValueError):
    pass


# An id short enough never to be a key (32 bytes are 44 characters of base64).
_SHOWN_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")


def new_key(key_id: str) -> str:
    """A fresh keyring entry `id:<base64 of 32 random bytes>` for PAYLOAD_ENCRYPTION_KEY."""
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def parse_keyring(spec: str) -> dict[str, bytes]:
    """`id:base64key,id2:base64key2`: the first key encrypts, every key decrypts.

    Rotation: put the new key first and keep the old ones listed until no running workflow
    holds a payload they encrypted.
    """
    keyring: dict[str, bytes] = {}
    entries = filter(None, (part.strip() for part in spec.split(",")))
    for position, entry in enumerate(entries, start=1):
        key_id, sep, encoded = entry.partition(":")
        # Named by its place, and by its id only where that reads as one: an entry without
        # its `id:`, or written the wrong way round (`<key>:id`), shows no key.
        shown = sep and _SHOWN_ID.fullmatch(key_id)
        name = f"key {key_id!r}" if shown else f"entry {position}"
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise KeyringError(f"{name} is not base64") from exc
        if not sep or not key_id or len(key) != 32:
            raise KeyringError(f"{name} must be 'id:<base64 of 32 bytes>'")
        if key_id in keyring:
            # The later would replace the earlier: a rotation that seals with the old key, or
            # a replaced key whose payloads no longer open.
            raise KeyringError(f"{name} is named twice: each key needs an id of its own")
        keyring[key_id] = key
    return keyring


class EncryptionCodec(PayloadCodec):
    def __init__(self, keyring: dict[str, bytes]) -> None:
        if not keyring:
            raise KeyringError("at least one key is required")
        self._current = next(iter(keyring))
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self._current]
        encoded = []
        for payload in payloads:
            nonce = os.urandom(_NONCE_BYTES)
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), self._current.encode())
            encoded.append(
                Payload(
                    metadata={"encoding": ENCODING, _KEY_ID: self._current.encode()},
                    data=nonce + sealed,
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(payload)
                continue
            key_id = payload.metadata[_KEY_ID].decode()
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise KeyringError(f"payload encrypted with unknown key {key_id!r}")
            nonce, sealed = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
            decoded.append(Payload.FromString(cipher.decrypt(nonce, sealed, key_id.encode())))
        return decoded
