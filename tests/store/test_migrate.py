"""Migrations build exactly the models' schema on SQLite and PostgreSQL; stale ones are refused."""

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from devstack.postgres import scratch_postgres_database
from store.engine import create_db_engine
from store.migrate import SchemaNotCurrentError, downgrade, require_current_schema, upgrade
from tests.support.postgres import postgres_server


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with contextlib.ExitStack() as cleanup:
        if request.param == "postgresql":
            url = cleanup.enter_context(scratch_postgres_database(postgres_server()))
        else:
            url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
        engine = create_db_engine(url)
        yield engine
        engine.dispose()


def schema_diff(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_migrations_produce_exactly_the_models_schema(empty_engine: Engine) -> None:
    missing = schema_diff(empty_engine)
    upgrade(empty_engine)

    assert {change[0] for change in missing} >= {"add_table"}
    assert schema_diff(empty_engine) == []


def test_downgrade_removes_every_table_and_upgrade_restores_them(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    downgrade(empty_engine, "base")
    left = set(inspect(empty_engine).get_table_names())
    upgrade(empty_engine)

    assert left == {"alembic_version"}
    assert schema_diff(empty_engine) == []


def test_migrations_started_together_end_with_one_current_schema() -> None:
    """Deploy jobs (or init containers) migrating one PostgreSQL database at once: each
    succeeds, one after the other."""
    with scratch_postgres_database(postgres_server()) as url:
        engine = create_db_engine(url)
        with ThreadPoolExecutor(max_workers=3) as pool:
            runs = [pool.submit(upgrade, engine) for _ in range(3)]
            failures = [run.exception() for run in runs]
        require_current_schema(engine)
        diff = schema_diff(engine)
        engine.dispose()

    assert failures == [None, None, None]
    assert diff == []


def test_unmigrated_database_is_refused_with_the_remedy(empty_engine: Engine) -> None:
    with pytest.raises(SchemaNotCurrentError) as refused:
        require_current_schema(empty_engine)

    message = str(refused.value)
    assert "not migrated" in message
    assert "make migrate" in message
    assert f":{empty_engine.url.password}@" not in message


def test_migrated_database_is_accepted(empty_engine: Engine) -> None:
    upgrade(empty_engine)

    require_current_schema(empty_engine)


def test_database_ahead_of_the_code_is_accepted_with_a_warning(
    empty_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """During a rolling upgrade the schema is migrated before the old processes are replaced."""
    upgrade(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))

    with caplog.at_level(logging.WARNING, logger="store.migrate"):
        require_current_schema(empty_engine)

    assert "newer than this code" in caplog.text


def test_make_migrate_applies_the_migrations_to_database_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}

    done = subprocess.run(
        [sys.executable, "-m", "store.migrate"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr.decode()
    engine = create_db_engine(url)
    try:
        require_current_schema(engine)
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def _feed(engine: Engine, *columns: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        query = f"SELECT {', '.join(columns)} FROM feed_entry ORDER BY shipment_id"
        return [tuple(row) for row in connection.execute(text(query))]


def test_feed_entries_keep_their_numbers_when_numbering_moves_after_commit(
    empty_engine: Engine,
) -> None:
    upgrade(empty_engine, "0003")
    with empty_engine.begin() as connection:
        for n in (1, 2, 3):
            connection.execute(
                text(
                    "INSERT INTO shipment (id, order_id, org, idempotency_id, workflow_id, "
                    "reference, fingerprint, channel, destination, status, order_status, "
                    "created_at, expires_at, last_update) VALUES (:id, 'o', 'ttd', :id, :id, "
                    ":id, 'f', 'SMS', '+4791234567', 'SMS_Delivered', 'Order_Completed', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": f"s{n}"},
            )
            connection.execute(
                text(
                    "INSERT INTO feed_entry (shipment_id, org, order_status, channel, "
                    "destination, status, last_update) VALUES (:id, 'ttd', 'Order_Completed', "
                    "'SMS', '+4791234567', 'SMS_Delivered', CURRENT_TIMESTAMP)"
                ),
                {"id": f"s{n}"},
            )
    before = _feed(empty_engine, "shipment_id", "seq")

    upgrade(empty_engine)
    after = _feed(empty_engine, "shipment_id", "seq", "id")
    downgrade(empty_engine, "0003")

    assert before == [("s1", 1), ("s2", 2), ("s3", 3)]
    assert after == [("s1", 1, 1), ("s2", 2, 2), ("s3", 3, 3)]
    assert _feed(empty_engine, "shipment_id", "seq") == before


def _shipment(connection: Any, sid: str, channel: str, destination: str) -> None:
    connection.execute(
        text(
            "INSERT INTO shipment (id, order_id, org, idempotency_id, workflow_id, reference, "
            "fingerprint, channel, destination, status, order_status, created_at, expires_at, "
            "last_update) VALUES (:id, 'o', 'ttd', :id, :id, :id, 'f', :channel, :destination, "
            "'SMS_Sending', 'Order_Processed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP)"
        ),
        {"id": sid, "channel": channel, "destination": destination},
    )


def test_rows_from_before_get_the_key_the_recipient_limit_counts_by(empty_engine: Engine) -> None:
    written = {
        "s1": ("SMS", "+4791234567"),
        "s2": ("SMS", "0047 (912) 34.567"),
        "s3": ("SMS", "+47-912/345-67"),
        "s4": ("Email", "Kari.Nordmann@Example.NO"),
    }
    upgrade(empty_engine, "0010")
    with empty_engine.begin() as connection:
        for sid, (channel, destination) in written.items():
            _shipment(connection, sid, channel, destination)

    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        rows = connection.execute(text("SELECT id, recipient_key FROM shipment")).all()
    keys = {sid: key for sid, key in rows}
    downgrade(empty_engine, "0010")
    left = {column["name"] for column in inspect(empty_engine).get_columns("shipment")}
    indexes = {index["name"] for index in inspect(empty_engine).get_indexes("shipment")}

    assert keys == {
        "s1": "+4791234567",
        "s2": "+4791234567",
        "s3": "+4791234567",
        "s4": "kari.nordmann@example.no",
    }
    assert "recipient_key" not in left
    assert "ix_shipment_org_destination_created" in indexes


def test_an_upgrade_stopped_after_its_first_commit_finishes_when_run_again(
    empty_engine: Engine,
) -> None:
    """On PostgreSQL revision 0011 commits its column before it fills it and builds its index
    outside a transaction; stopped there, it leaves them behind (the index perhaps invalid)
    while the revision is still 0010."""
    if empty_engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs the revision in one transaction")
    upgrade(empty_engine, "0010")
    with empty_engine.begin() as connection:
        _shipment(connection, "s1", "SMS", "0047 912 34 567")
        connection.execute(text("ALTER TABLE shipment ADD COLUMN recipient_key VARCHAR(320)"))
        connection.execute(text("CREATE INDEX ix_shipment_org_recipient_created ON shipment (org)"))

    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        key = connection.execute(text("SELECT recipient_key FROM shipment")).scalar_one()
    [index] = [
        i
        for i in inspect(empty_engine).get_indexes("shipment")
        if i["name"] == "ix_shipment_org_recipient_created"
    ]

    assert key == "+4791234567"
    assert index["column_names"] == ["org", "recipient_key", "created_at"]
    assert schema_diff(empty_engine) == []
