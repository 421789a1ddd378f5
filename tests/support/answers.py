"""Reading the API's answers: the ids of an order, the status of a manifest, a problem."""

from typing import Any

import httpx

PROBLEM = "application/problem+json"


def shipment_id(response: httpx.Response) -> str:
    """The shipment id of an answer to an order (201 or 200)."""
    found: str = response.json()["notification"]["shipmentId"]
    return found


def recipient_status(manifest: dict[str, Any]) -> str:
    """The status of a manifest's one recipient."""
    status: str = manifest["recipients"][0]["status"]
    return status


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem document with `status`; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body
