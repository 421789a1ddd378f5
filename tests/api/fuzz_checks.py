"""Our own check for the schemathesis run of tests/api/test_fuzz.py (loaded as its hooks)."""

from typing import Any

import schemathesis


@schemathesis.check
def problem_document(
    ctx: Any, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> None:
    """Every 4xx is an RFC 9457 problem document that says what was wrong."""
    if 400 <= response.status_code < 500:
        media = response.headers.get("content-type", [""])[0]
        assert media.startswith("application/problem+json"), f"{response.status_code}: {media}"
        body = response.json()
        assert body["status"] == response.status_code
        assert body["title"]


@schemathesis.hook
def before_call(ctx: Any, case: schemathesis.Case[Any], *_args: Any) -> None:
    """A read may wait up to 30 s for a shipment to complete; the fuzzer checks answers, not
    waiting (tests/api/test_long_poll.py does), so a wait it chooses becomes none."""
    query = case.query or {}
    wait = query.get("waitSeconds")
    if isinstance(wait, int) and not isinstance(wait, bool) and wait > 0:
        query["waitSeconds"] = 0
