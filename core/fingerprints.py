"""An order's fingerprint: the hash that tells a repeat of an order from another order under
the same idempotencyId (`IDEMPOTENCY_MISMATCH=reject`).

It is kept in the store, beside the recipient, the sender and the reference. A plain hash of
an order whose body follows a known template ("Your code is …") gives the code up to anyone who
reads the row and hashes the million candidates. So where payloads are encrypted, the
fingerprint is an HMAC under a key derived from the payload-encryption key: the store alone
cannot test a guess. It names its key by a tag, so a fingerprint made before a key rotation is
still compared while its key is in the keyring.
"""

import base64
import hashlib
import hmac

_PURPOSE = b"instant-notifications order fingerprint"


class Fingerprints:
    def __init__(self, keyring: dict[str, bytes]) -> None:
        # The first key makes fingerprints; every key checks them.
        self._keys = {_tag(key): _derived(key) for key in keyring.values()}

    def of(self, content: bytes) -> str:
        """`<tag>:<HMAC>` (52 characters) with a keyring; a plain SHA-256 without one."""
        if not self._keys:
            return hashlib.sha256(content).hexdigest()
        tag, key = next(iter(self._keys.items()))
        return f"{tag}:{_mac(key, content)}"

    def differ(self, fingerprint: str, content: bytes) -> bool:
        """Whether `fingerprint` was made of other content. One made under a key that is no
        longer in the keyring cannot tell, and counts as the same (as the default `ignore`);
        a plain one (rows of before, or made without a keyring) is compared as it is."""
        tag, keyed, mac = fingerprint.partition(":")
        if not keyed:
            return not hmac.compare_digest(fingerprint, hashlib.sha256(content).hexdigest())
        key = self._keys.get(tag)
        return key is not None and not hmac.compare_digest(mac, _mac(key, content))


def _derived(key: bytes) -> bytes:
    """A key of its own for fingerprints: the encryption key is used for nothing else."""
    return hmac.digest(key, _PURPOSE, "sha256")


def _tag(key: bytes) -> str:
    """Names the key without telling anything of it."""
    return hashlib.sha256(_PURPOSE + b" tag" + key).hexdigest()[:8]


def _mac(key: bytes, content: bytes) -> str:
    digest = hmac.digest(key, content, "sha256")
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
