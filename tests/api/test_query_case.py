"""Query parameter names bind regardless of case, as against Altinn's ASP.NET API: its own
request collection sends `pagesize`. Where one parameter comes twice, in any spelling, the
first value counts, as ASP.NET's binder takes the first value of a simple type."""

from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Query

from api.query_names import QueryNames, QueryParameter, by_folded_name, canonical_query
from tests.api.test_feed import complete
from tests.support.routes import FEED
from tests.support.stack import Stack, Tenant


async def feed_ids(stack: Stack, tenant: Tenant, query: str) -> list[str]:
    response = await stack.api.get(f"{FEED}?{query}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return [entry["shipmentId"] for entry in entries]


@pytest.mark.parametrize(
    "query", ["pagesize=1", "PAGESIZE=1", "PageSize=1", "pageSize=1", "pAgEsIzE=1"]
)
async def test_page_size_in_any_case(stack: Stack, tenant: Tenant, query: str) -> None:
    ids = await complete(stack, tenant, 2)
    assert await feed_ids(stack, tenant, query) == ids[:1]


@pytest.mark.parametrize("query", ["orderby=desc", "ORDERBY=DESC", "OrderBy=Desc"])
async def test_order_by_in_any_case(stack: Stack, tenant: Tenant, query: str) -> None:
    ids = await complete(stack, tenant, 2)
    assert await feed_ids(stack, tenant, query) == ids[::-1]


async def test_seq_in_any_case(stack: Stack, tenant: Tenant) -> None:
    await complete(stack, tenant, 3)
    entries = (await stack.api.get(FEED, headers=tenant.headers)).json()
    first = entries[0]["sequenceNumber"]
    later = [entry["shipmentId"] for entry in entries[1:]]
    assert await feed_ids(stack, tenant, f"SEQ={first}") == later
    assert await feed_ids(stack, tenant, f"Seq={first}&PAGESIZE=1&ORDERBY=asc") == later[:1]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("pageSize=1&pagesize=3", 1), ("pagesize=3&pageSize=1", 3), ("pageSize=1&pageSize=3", 1)],
)
async def test_the_first_of_two_spellings_counts(
    stack: Stack, tenant: Tenant, query: str, expected: int
) -> None:
    await complete(stack, tenant, 3)
    assert len(await feed_ids(stack, tenant, query)) == expected


async def test_an_invalid_value_is_named_by_the_declared_spelling(
    stack: Stack, tenant: Tenant
) -> None:
    response = await stack.api.get(f"{FEED}?ORDERBY=up&seq=x", headers=tenant.headers)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"orderBy", "seq"}


@pytest.mark.parametrize("query", ["seq=-1&SEQ=0", "seq=-1&seq=0"])
async def test_a_second_value_cannot_hide_a_first_invalid_one(
    stack: Stack, tenant: Tenant, query: str
) -> None:
    response = await stack.api.get(f"{FEED}?{query}", headers=tenant.headers)
    assert list(response.json()["errors"]) == ["seq"]


def test_unknown_names_and_values_pass_untouched() -> None:
    declared = by_folded_name(iter([QueryParameter("pageSize", repeatable=False)]))
    raw = b"PAGESIZE=%31&other=a%26b&Other=c&flag&=x&pagesize=9"
    assert canonical_query(raw, declared) == b"pageSize=%31&other=a%26b&Other=c&flag&=x"


def test_list_parameters_keep_every_value_in_order() -> None:
    declared = by_folded_name(iter([QueryParameter("status", repeatable=True)]))
    assert canonical_query(b"Status=a&STATUS=b&status=c", declared) == (
        b"status=a&status=b&status=c"
    )


def test_two_spellings_of_one_name_cannot_be_declared() -> None:
    with pytest.raises(ValueError, match="differ only in case"):
        by_folded_name(iter([QueryParameter("pageSize", False), QueryParameter("PageSize", False)]))


async def test_a_new_route_gets_it_without_a_list_to_update() -> None:
    app = FastAPI()

    @app.get("/things")
    def things(
        max_count: Annotated[int, Query(alias="maxCount")] = 0,
        tags: Annotated[list[str] | None, Query()] = None,
    ) -> dict[str, Any]:
        return {"maxCount": max_count, "tags": tags}

    app.add_middleware(QueryNames, document=app.openapi)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/things?MAXCOUNT=2&maxcount=5&TAGS=a&Tags=b")
    assert response.json() == {"maxCount": 2, "tags": ["a", "b"]}
