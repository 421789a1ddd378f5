"""INSERTs that skip a row whose unique key is taken, built once for each database the store
runs on: one statement instead of a read and a write, and no exception on a repeat."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

_INSERTS: dict[str, Callable[[Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


class InsertIgnoring:
    """`columns` are bound from the row (a column it lacks is NULL); `conflict` names the key's
    columns (None: any unique key); `computed` adds values the statement computes, by dialect."""

    def __init__(
        self,
        table: Table,
        columns: Sequence[str],
        returning: Column[Any],
        conflict: Sequence[str] | None = None,
        computed: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._columns = tuple(columns)
        bound: dict[str, Any] = {name: bindparam(name) for name in self._columns}
        self._by_dialect = {
            name: insert(table)
            .values({**bound, **(computed or {}).get(name, {})})
            .on_conflict_do_nothing(index_elements=conflict)
            .returning(returning)
            for name, insert in _INSERTS.items()
        }

    def run(self, connection: Connection, row: Mapping[str, Any]) -> bool:
        """Whether the row was inserted (False: its key was taken)."""
        statement = self._by_dialect[connection.dialect.name]
        params = {name: row.get(name) for name in self._columns}
        return connection.execute(statement, params).first() is not None
