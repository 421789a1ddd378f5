"""The API refuses to start on a database that its migrations have not reached."""

from pathlib import Path

import pytest
from sqlalchemy import inspect

from devstack.scratch import scratch_settings
from store.engine import create_db_engine
from store.migrate import SchemaNotCurrentError
from tests.support.inprocess import api_for


async def test_api_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    settings = scratch_settings(tmp_path)

    with pytest.raises(SchemaNotCurrentError, match=r"not migrated.*make migrate"):
        async with api_for(settings):
            pass

    # Nothing was created behind the operator's back.
    engine = create_db_engine(settings.database_url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()
