"""Store errors told apart by the driver's own errors, from a real server."""

import uuid

from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from devstack.processes import free_port
from store.engine import create_db_engine
from store.failures import store_away
from tests.support.postgres import postgres_server


def connect_error(url: str) -> Exception:
    engine = create_db_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError as refused:
        return refused
    finally:
        engine.dispose()
    raise AssertionError(f"{url} connected")


def test_a_store_refusing_in_passing_is_told_from_one_refusing_for_good() -> None:
    """The driver's own errors: nothing listening, or the server refusing the credentials or
    the database (which no retry mends)."""
    server = make_url(postgres_server())
    nobody = server.set(host="127.0.0.1", port=free_port())
    wrong_password = server.set(password=f"wrong-{uuid.uuid4().hex}")
    no_database = server.set(database=f"none_{uuid.uuid4().hex[:8]}")

    verdicts = [
        store_away(connect_error(url.render_as_string(hide_password=False)))
        for url in (nobody, wrong_password, no_database)
    ]

    assert verdicts == [True, False, False]
