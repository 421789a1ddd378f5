"""The simulator as a webhook receiver: the README's one-line subscription, then the events of
an order on its inbox, their signatures checked."""

from typing import Any

from tests.support.polling import eventually
from tests.support.stack import Stack, Tenant
from tests.support.webhooks import place, subscribe


async def test_the_simulator_receives_and_verifies_the_events_of_an_order(
    stack: Stack, tenant: Tenant
) -> None:
    subscription = await subscribe(stack, tenant, f"{stack.settings.simulator.url}/webhooks")
    learned = await stack.simulator.post("/webhooks/secrets", json=subscription)
    shipment_id = await place(stack.api, tenant)

    async def both() -> list[dict[str, Any]] | None:
        events: list[dict[str, Any]] = (await stack.simulator.get("/webhooks")).json()
        mine = [e for e in events if e["event"]["data"]["shipmentId"] == shipment_id]
        return mine if len(mine) == 2 else None

    events = await eventually(both)
    assert learned.status_code == 200
    assert sorted(e["type"] for e in events) == ["shipment.accepted", "shipment.completed"]
    assert all(e["verified"] for e in events)


async def test_an_event_signed_with_an_unknown_secret_is_shown_unverified(stack: Stack) -> None:
    body = b'{"type": "shipment.accepted", "timestamp": "2026-01-01T00:00:00Z", "data": {}}'
    headers = {
        "webhook-id": "msg_forged",
        "webhook-timestamp": "1767225600",
        "webhook-signature": "v1,Zm9yZ2Vk",
        "content-type": "application/json",
    }

    answer = await stack.simulator.post("/webhooks", content=body, headers=headers)
    events = (await stack.simulator.get("/webhooks")).json()

    assert answer.status_code == 204
    forged = [e for e in events if e["webhookId"] == "msg_forged"]
    assert [e["verified"] for e in forged] == [False]
