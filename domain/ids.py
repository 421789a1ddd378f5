"""The one rule for workflow IDs and the client reference a gateway de-duplicates on."""

import base64
import hashlib

_PREFIX = "instant/"
MAX_ORG_LENGTH = 64  # a tenant is ASCII letters, digits, `-` and `_`
# Temporal refuses workflow IDs longer than this many bytes (the server's limit.maxIDLength).
MAX_WORKFLOW_ID_BYTES = 1000
# What is left for the idempotency key, in UTF-8, after the prefix and the longest tenant.
MAX_KEY_BYTES = MAX_WORKFLOW_ID_BYTES - len(_PREFIX) - MAX_ORG_LENGTH - 1
# Temporal's SQL schemas (PostgreSQL, MySQL) keep a workflow ID in VARCHAR(255) up to its
# release 1.31: a longer one fails there, whatever limit.maxIDLength says.
MAX_WORKFLOW_ID_LENGTH = 255


def workflow_id(org: str, idempotency_id: str) -> str:
    """The idempotency key: Temporal itself refuses a second workflow for one tenant and key.

    Where tenant and key would make it longer than 255 characters, the key goes in as its
    first characters, `~` and the SHA-256 of the whole key: two long keys that begin alike
    stay two, and an operator still reads how the key began."""
    whole = f"{_PREFIX}{org}/{idempotency_id}"
    if len(whole) <= MAX_WORKFLOW_ID_LENGTH:
        return whole
    digest = hashlib.sha256(idempotency_id.encode()).hexdigest()
    room = MAX_WORKFLOW_ID_LENGTH - len(f"{_PREFIX}{org}/~{digest}")
    return f"{_PREFIX}{org}/{idempotency_id[:room]}~{digest}"


def client_reference(workflow_id: str) -> str:
    """Opaque, stable per workflow ID, so every retry of a handover carries the same reference.

    It is a hash rather than the ID itself so that the tenant and its keys never reach a provider.
    """
    digest = hashlib.sha256(workflow_id.encode()).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()[:26]
