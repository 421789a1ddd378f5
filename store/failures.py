"""Which store errors pass (a retry may get past them) and which no retry mends."""

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# PostgreSQL's SQLSTATEs of a failure that passes: the connection lost or refused (class 08),
# too many connections, the server shutting down or starting, a lock or statement timeout.
_PASSING_STATES = ("08", "53300", "57P01", "57P02", "57P03", "55P03", "57014")
# SQLite's: the file locked by another writer, or unreadable for a moment.
_PASSING_SQLITE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_CANTOPEN")
# libpq gives no SQLSTATE for a connection that failed, refused by the server or not: its words
# for the failures that pass (nothing answered; the server starting, stopping, full or closed to
# connections for a while). A password or a database refused is none of them.
_PASSING_CONNECT = (
    "connection refused",
    "could not translate host name",
    "timeout expired",
    "server closed the connection",
    "too many clients",
    "the database system is",
    "not currently accepting connections",
    "network is unreachable",
    "no route to host",
    "connection reset",
    "could not receive data",
    "could not send data",
    "terminating connection",
)


def store_away(exc: Exception) -> bool:
    """A store failure a retry may get past (a 503), not one in the schema, the credentials or
    a statement (a missing table, a refused password), which no retry mends (a 500)."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if exc.connection_invalidated:
        return True
    cause = exc.orig
    name = getattr(cause, "sqlite_errorname", None)
    if name is not None:
        return str(name).startswith(_PASSING_SQLITE)
    state = getattr(cause, "sqlstate", None)
    if state is None:
        message = str(cause).lower()
        return any(words in message for words in _PASSING_CONNECT)
    return str(state).startswith(_PASSING_STATES)
