"""The store on a fresh SQLite file and on the run's PostgreSQL database, both migrated."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from store.engine import create_db_engine
from store.migrate import migrate_database


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
        migrate_database(url)
    engine = create_db_engine(url)
    yield engine
    engine.dispose()
