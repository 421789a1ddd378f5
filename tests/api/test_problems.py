"""A 405 is a problem document whose `Allow` names every method the path takes; a store error
is a 503 only when a retry may get past it."""

import uuid

import pytest
from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from api.problems import store_away
from devstack.processes import free_port
from store.engine import create_db_engine
from tests.support.answers import assert_problem
from tests.support.postgres import postgres_server
from tests.support.routes import REPORTS, SMS, WEBHOOKS
from tests.support.stack import Stack, Tenant

SOME_ID = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", WEBHOOKS, "GET, HEAD, POST"),
        ("PUT", f"{WEBHOOKS}/{SOME_ID}", "DELETE, GET, HEAD"),
        ("GET", f"{WEBHOOKS}/{SOME_ID}/rotate-secret", "POST"),
        ("GET", SMS, "POST"),
        ("POST", "/health", "GET, HEAD"),
        ("GET", f"{REPORTS}/twilio", "POST"),
    ],
)
async def test_a_405_names_the_methods_the_path_takes(
    stack: Stack, tenant: Tenant, method: str, path: str, allow: str
) -> None:
    response = await stack.api.request(method, path, headers=tenant.headers)
    assert_problem(response, 405)
    assert response.headers["allow"] == allow


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
