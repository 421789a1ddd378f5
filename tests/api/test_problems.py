"""A 405 is a problem document whose `Allow` names every method the path takes."""

import pytest

from tests.support.answers import assert_problem
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
