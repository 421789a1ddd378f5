"""Which paths are given a route's spelling: those under the API's base that differ from it in
ASCII case alone, a literal segment taking precedence over a parameter, as in ASP.NET."""

from typing import Any

import pytest

from api.path_case import PathCase

BASE = "/notifications/api/v1"


def spelled(paths: list[str], path: str) -> str:
    """The path a request for `path` reaches the routes with, given the documented `paths`."""
    document: dict[str, Any] = {"paths": {template: {} for template in paths}}
    case = PathCase(lambda *_: None, document=lambda: document, base=BASE)  # type: ignore[arg-type]
    scope = case._spelled({"type": "http", "path": path, "raw_path": path.encode()})
    return str(scope["path"])


@pytest.mark.parametrize(
    "paths",
    [
        [f"{BASE}/shipment/{{shipment_id}}", f"{BASE}/shipment/feed"],
        [f"{BASE}/shipment/feed", f"{BASE}/shipment/{{shipment_id}}"],
    ],
    ids=["parameter documented first", "literal documented first"],
)
def test_a_literal_segment_wins_over_a_parameter_whatever_the_document_order(
    paths: list[str],
) -> None:
    assert spelled(paths, f"{BASE}/SHIPMENT/FEED") == f"{BASE}/shipment/feed"
    assert spelled(paths, f"{BASE}/Shipment/AbC-1") == f"{BASE}/shipment/AbC-1"


def test_precedence_goes_segment_by_segment_from_the_left() -> None:
    paths = [f"{BASE}/{{kind}}/list", f"{BASE}/orders/{{id}}"]
    assert spelled(paths, f"{BASE}/ORDERS/LIST") == f"{BASE}/orders/LIST"


@pytest.mark.parametrize(
    "path",
    [
        "/METRICS",  # outside the base: a proxy's rule may keep it off the public ingress
        "/Health/Ready",
        f"{BASE}/future/webhoo\u212as",  # the Kelvin sign, which IGNORECASE alone folds to k
        f"{BASE}/future/orders/\u0131nstant/sms",  # a dotless i, likewise to i
    ],
)
def test_only_ascii_case_under_the_base_is_mended(path: str) -> None:
    paths = [
        "/metrics",
        "/health/ready",
        f"{BASE}/future/webhooks",
        f"{BASE}/future/orders/instant/sms",
    ]
    assert spelled(paths, path) == path
