"""Query parameter names bound regardless of case, as ASP.NET binds them: `?pagesize=3` is
`pageSize`, as against Altinn. Where one parameter comes twice (in any spelling), the first
value counts, as ASP.NET's binder takes the first value of a simple type."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_plus

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class QueryParameter:
    name: str
    repeatable: bool  # a list parameter keeps every value


def declared_parameters(document: dict[str, Any]) -> Iterator[QueryParameter]:
    """The query parameters an OpenAPI document declares (FastAPI writes it from the routes)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    schema = parameter.get("schema", {})
                    yield QueryParameter(parameter["name"], _is_array(schema))


def _is_array(schema: dict[str, Any]) -> bool:
    branches = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
    return any(branch.get("type") == "array" for branch in branches)


class QueryNames:
    """Pure ASGI: rewrites the query string before any route or middleware reads it."""

    def __init__(self, app: ASGIApp, document: Callable[[], dict[str, Any]]) -> None:
        self._app = app
        self._document = document
        self._spellings: dict[str, QueryParameter] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            # In place, as Starlette's router adds the matched route: the request metrics
            # outside this middleware read it from the same scope.
            scope["query_string"] = canonical_query(scope["query_string"], self._declared())
        await self._app(scope, receive, send)

    def _declared(self) -> dict[str, QueryParameter]:
        if self._spellings is None:
            self._spellings = by_folded_name(declared_parameters(self._document()))
        return self._spellings


def by_folded_name(parameters: Iterator[QueryParameter]) -> dict[str, QueryParameter]:
    """Routes may share a parameter, but two spellings of one name could not both be bound."""
    spellings: dict[str, QueryParameter] = {}
    for parameter in parameters:
        known = spellings.setdefault(parameter.name.lower(), parameter)
        if known != parameter:
            raise ValueError(f"query parameters {known} and {parameter} differ only in case")
    return spellings


def canonical_query(raw: bytes, declared: dict[str, QueryParameter]) -> bytes:
    kept: list[bytes] = []
    seen: set[str] = set()
    for pair in raw.split(b"&"):
        name, equals, value = pair.partition(b"=")
        parameter = declared.get(unquote_plus(name.decode("latin-1")).lower())
        if parameter is None:
            kept.append(pair)
            continue
        if parameter.name in seen and not parameter.repeatable:
            continue
        seen.add(parameter.name)
        kept.append(quote(parameter.name).encode() + equals + value)
    return b"&".join(kept)
