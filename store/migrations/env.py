"""Alembic environment: the store's tables, migrated on the connection `store.migrate` opens."""

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from store import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from store.migrate import render_item

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `python -m store.migrate`, which opens the database")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    # SQLite alters a table by copying it; batch mode writes migrations that do so.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
    # Each revision commits on its own: one that builds an index concurrently must commit
    # what came before it.
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
