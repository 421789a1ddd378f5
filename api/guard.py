"""Checks before any route runs: a trace id, the body size, the content type, and JSON that
the routes' parser would quietly accept but we refuse (duplicate keys, NaN, deep nesting)."""

import json
import sys
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from api.problems import Problem, invalid, problem_response
from core.tracing import current_ids

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_JSON_DEPTH = 32
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class _TooLarge(Exception):
    pass


class _DuplicateKey(ValueError):
    pass


class _NotJson(ValueError):
    pass


class RequestGuard:
    """Pure ASGI: the whole body is read here (it is small by contract) and handed on."""

    def __init__(
        self,
        app: App,
        max_bytes: int,
        json_paths: tuple[str, ...],
        larger: dict[str, int] | None = None,
        larger_with_credentials: bool = False,
    ) -> None:
        """`json_paths`: the paths whose bodies must be JSON; one ending in `/` covers every
        path below it, another only itself (a resource's body-less actions live below it).
        `larger`: path prefixes whose bodies may exceed `max_bytes`, with their own limit; with
        `larger_with_credentials`, only for a request that carries them (they are checked after
        the body is read: reading megabytes for anyone would be work done for anyone)."""
        self._app = app
        self._max = max_bytes
        self._json_paths = json_paths
        self._larger = larger or {}
        self._larger_with_credentials = larger_with_credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        # The request's OpenTelemetry trace id, so a problem document leads to its trace.
        ids = current_ids()
        scope.setdefault("state", {})["trace_id"] = ids[0] if ids else uuid.uuid4().hex
        if scope["method"] in _BODY_METHODS:
            problem, receive = await self._checked(scope, receive)
            if problem is not None:
                await problem_response(Request(scope), problem)(scope, receive, send)
                return
        await self._app(scope, receive, send)

    async def _checked(self, scope: Scope, receive: Receive) -> tuple[Problem | None, Receive]:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length", "")
        credentials = "authorization" in headers or not self._larger_with_credentials
        limit = self._limit(scope["path"]) if credentials else self._max
        if length.isdigit() and int(length) > limit:
            return self._too_large(limit), receive
        wants_json = self._wants_json(scope["path"])
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if wants_json and not (media == "application/json" or media.endswith("+json")):
            return Problem(
                415, "Unsupported Media Type", "The body must be application/json."
            ), receive
        try:
            body = await self._read(receive, limit)
        except _TooLarge:
            return self._too_large(limit), receive
        return (_json_problem(body) if wants_json else None), _replay(body, receive)

    def _wants_json(self, path: str) -> bool:
        return any(
            path == json_path or (json_path.endswith("/") and path.startswith(json_path))
            for json_path in self._json_paths
        )

    def _limit(self, path: str) -> int:
        return next((n for prefix, n in self._larger.items() if path.startswith(prefix)), self._max)

    async def _read(self, receive: Receive, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                raise _TooLarge
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _too_large(self, limit: int) -> Problem:
        return Problem(413, "Content Too Large", f"The request body must be at most {limit} bytes.")


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _json_problem(body: bytes) -> Problem | None:
    """Malformed JSON is left to the route's parser, which names the error; this refuses what
    a parser accepts silently: a repeated key (which value wins?), NaN and the infinities,
    and absurd nesting."""
    try:
        parsed = json.loads(body, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _DuplicateKey as exc:
        return _bad_json(f"The key {exc} appears more than once in one object.")
    except _NotJson as exc:
        return _bad_json(f"{exc} is not JSON (RFC 8259 has no NaN or Infinity).")
    except RecursionError:
        return _bad_json(f"JSON may nest at most {MAX_JSON_DEPTH} levels.")
    except json.JSONDecodeError:
        return None
    except UnicodeDecodeError:
        return _bad_json("The body is not UTF-8 (RFC 8259 8.1).")
    except ValueError:
        # The one other: an integer longer than Python converts (sys.get_int_max_str_digits).
        return _bad_json(f"A number has more than {sys.get_int_max_str_digits()} digits.")
    if _depth(parsed) > MAX_JSON_DEPTH:
        return _bad_json(f"JSON may nest at most {MAX_JSON_DEPTH} levels.")
    return None


def _bad_json(message: str) -> Problem:
    return invalid({"$": [message]})


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(repr(key))
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    # Python's parser reads NaN, Infinity and -Infinity as numbers; JSON has none of them.
    raise _NotJson(name)


def _depth(value: Any) -> int:
    deepest, level = 0, [(value, 1)]
    while level:
        node, depth = level.pop()
        deepest = max(deepest, depth)
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        level.extend((child, depth + 1) for child in children)
    return deepest
