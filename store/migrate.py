"""Schema migrations: `python -m store.migrate` applies them; processes check them at start."""

import argparse
import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlmodel.sql.sqltypes import AutoString

from core.config import get_settings
from core.logs import configure_logging
from store.engine import create_db_engine
from store.models import UtcDateTime

log = logging.getLogger(__name__)

SCRIPT_LOCATION = "store:migrations"
# The advisory lock migrations take on PostgreSQL ("instnoti" in ASCII).
_MIGRATION_LOCK = 0x696E73746E6F7469
_LOCK_RETRY_SECONDS = 0.2
_LOCK_WAIT_SECONDS = 900


class SchemaNotCurrentError(RuntimeError):
    """The database lacks migrations this code needs: the process must not start on it."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    hooks = {"hooks": "ruff", "ruff.type": "module", "ruff.module": "ruff"}
    hooks["ruff.options"] = "format REVISION_SCRIPT_FILENAME"
    for name, value in hooks.items():
        config.set_section_option("post_write_hooks", name, value)
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    # A connection, not a transaction: Alembic commits each revision (env.py), so that a
    # revision may commit part of its work and do the rest outside a transaction.
    with engine.connect() as connection, _one_at_a_time(connection):
        command.upgrade(alembic_config(connection), revision)


@contextmanager
def _one_at_a_time(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, one migration at a time (two deploy jobs, init containers): a second
    waits for the first, then finds the schema current. A session's lock, so it outlasts each
    revision's commit. Waited for in short tries, not in one statement: a transaction open
    while it waits would hold up the first's CREATE INDEX CONCURRENTLY, which waits for every
    transaction, a deadlock. (SQLite is for development, migrated by one `make run`.)"""
    if connection.dialect.name != "postgresql":
        yield
        return
    give_up = time.monotonic() + _LOCK_WAIT_SECONDS
    if not _took_lock(connection):
        log.info("waiting for another migration of this store to end")
        while not _took_lock(connection):
            if time.monotonic() > give_up:
                raise RuntimeError(
                    f"another migration held the store for {_LOCK_WAIT_SECONDS} s; "
                    "run this one again once it has ended"
                )
            time.sleep(_LOCK_RETRY_SECONDS)
    try:
        yield
    finally:
        connection.rollback()
        connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")
        connection.commit()


def _took_lock(connection: Connection) -> bool:
    """One try, in a transaction of its own that ends at once."""
    took = bool(
        connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({_MIGRATION_LOCK})").scalar()
    )
    connection.commit()
    return took


def downgrade(engine: Engine, revision: str) -> None:
    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), revision)


def migrate_database(url: str) -> None:
    """Bring the database at `url` to the newest revision (creating an SQLite file if needed)."""
    engine = create_db_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def require_current_schema(engine: Engine) -> None:
    """Refuse a database that is behind this code; accept one that is ahead of it.

    A newer revision means a rolling upgrade migrated first: migrations only add, so the
    processes still on the old code keep working until they are replaced.
    """
    script = ScriptDirectory.from_config(alembic_config())
    heads = set(script.get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return
    where = engine.url.render_as_string(hide_password=True)
    known = {rev.revision for rev in script.walk_revisions()}
    if current and not current <= known:
        log.warning(
            "database %s is at revision %s, newer than this code (%s)",
            where,
            ", ".join(sorted(current)),
            ", ".join(sorted(heads)),
        )
        return
    state = f"at revision {', '.join(sorted(current))}" if current else "not migrated"
    raise SchemaNotCurrentError(
        f"The database {where} is {state}; this code needs revision {', '.join(sorted(heads))}. "
        "Apply the migrations first: `make migrate` (python -m store.migrate)."
    )


def render_item(kind: str, obj: Any, _context: AutogenContext) -> str | Literal[False]:
    """Write SQLModel's column types as plain SQLAlchemy ones, so revisions need no model code."""
    if kind != "type":
        return False
    if isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def write_revision(message: str) -> None:
    """Autogenerate the next revision from the models, against a scratch database at head."""
    config = alembic_config()
    number = len(list(ScriptDirectory.from_config(config).walk_revisions())) + 1
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_db_engine(f"sqlite:///{Path(scratch) / 'head.sqlite'}")
        upgrade(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.revision(config, message, autogenerate=True, rev_id=f"{number:04d}")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--revision", metavar="MESSAGE", help="write a new revision from the models instead"
    )
    args = parser.parse_args()
    settings = get_settings()
    configure_logging(settings.log_level)
    if args.revision:
        write_revision(args.revision)
        return
    migrate_database(settings.database_url)
    log.info("database schema is current")


if __name__ == "__main__":
    main()
