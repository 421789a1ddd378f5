"""Transaction-scoped advisory locks on PostgreSQL; SQLite lets one writer in at a time, so
there they are not needed."""

from sqlalchemy import Connection, text

_ONE_KEY = text("SELECT pg_advisory_xact_lock(:key)")
_TWO_KEYS = text("SELECT pg_advisory_xact_lock(:namespace, :key)")


def lock_until_commit(connection: Connection, key: int, namespace: int | None = None) -> None:
    """Held until the transaction ends; PostgreSQL keeps one-key and two-key locks apart."""
    if connection.dialect.name != "postgresql":
        return
    if namespace is None:
        connection.execute(_ONE_KEY, {"key": key})
    else:
        connection.execute(_TWO_KEYS, {"namespace": namespace, "key": key})
