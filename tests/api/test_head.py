"""HEAD answers as GET does, without the body; a path without GET refuses it with 405."""

from tests.support.routes import FEED, SMS
from tests.support.stack import Stack, Tenant


async def test_head_is_the_gets_answer_without_its_body(stack: Stack, tenant: Tenant) -> None:
    for path, headers in (("/health/live", {}), (FEED, tenant.headers)):
        got = await stack.api.get(path, headers=headers)
        head = await stack.api.head(path, headers=headers)
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["content-length"] == str(len(got.content))


async def test_head_of_a_path_without_get_is_405(stack: Stack, tenant: Tenant) -> None:
    head = await stack.api.head(SMS, headers=tenant.headers)
    assert (head.status_code, head.headers["allow"], head.content) == (405, "POST", b"")
