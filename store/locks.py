"""Transaction-scoped advisory locks on PostgreSQL; SQLite lets one writer in at a time, so
there they are not needed."""

import hashlib

from sqlalchemy import Connection, text

_LOCK = text("SELECT pg_advisory_xact_lock(:namespace, :key)")


def lock_until_commit(connection: Connection, namespace: int, key: int) -> None:
    """Held until the transaction ends. Two keys: PostgreSQL keeps these apart from the feed's
    one-key lock (`feed_number`, migration 0009)."""
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK, {"namespace": namespace, "key": key})


def key_of(name: str) -> int:
    """A lock's second key for a name (a tenant, a gateway reference): 32 bits of its hash."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)
