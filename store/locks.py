"""Transaction-scoped advisory locks on PostgreSQL; SQLite lets one writer in at a time, so
there they are not needed."""

from sqlalchemy import Connection, text

_LOCK = text("SELECT pg_advisory_xact_lock(:namespace, :key)")


def lock_until_commit(connection: Connection, namespace: int, key: int) -> None:
    """Held until the transaction ends. Two keys: PostgreSQL keeps these apart from the feed's
    one-key lock (`feed_number`, migration 0009)."""
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK, {"namespace": namespace, "key": key})
