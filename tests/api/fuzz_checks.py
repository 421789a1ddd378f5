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
