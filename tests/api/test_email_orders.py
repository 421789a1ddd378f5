"""Email orders: with EMAIL_SENDER_DOMAINS set, a sender address at any other domain is a 400
naming the field, with nothing sent; one at a listed domain, in any case, goes out as given."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.bodies import email_order, new_key
from tests.support.inprocess import api_for
from tests.support.routes import EMAIL
from tests.support.simulator import received_for
from tests.support.stack import Stack

ORG = "ttd"
SENDER_FIELD = "recipientEmail.emailSettings.senderEmailAddress"


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    # Set as Settings reads them: lower case, Unicode (tests/core/test_config.py).
    domains = ["service.example.no", "bølgen.no", "altinn.cloud"]
    settings = stack.settings.model_copy(update={"email_sender_domains": domains})
    async with api_for(settings, stack.connection) as api:
        yield api


def from_sender(sender: str | None) -> dict[str, Any]:
    order = email_order(key=new_key())
    if sender is not None:
        order["recipientEmail"]["emailSettings"]["senderEmailAddress"] = sender
    return order


@pytest.mark.parametrize(
    "sender",
    ["login@service.example.no", "Login@SERVICE.Example.NO", "kode@xn--blgen-vua.no", None],
    ids=["as-listed", "other-case", "idna-form", "default-sender"],
)
async def test_a_sender_at_a_listed_domain_is_sent_as_given(
    stack: Stack, api: httpx.AsyncClient, sender: str | None
) -> None:
    order = from_sender(sender)

    response = await api.post(EMAIL, json=order, headers=stack.headers(ORG))

    assert response.status_code == 201, response.text
    [sent] = await received_for(stack.simulator, ORG, order["idempotencyId"])
    assert sent["sender"] == (sender or stack.settings.email_default_sender)


@pytest.mark.parametrize(
    "sender", ["ceo@other-bank.example", "login@example.no", "login@service.example.no.evil.test"]
)
async def test_a_sender_at_another_domain_is_400_and_not_sent(
    stack: Stack, api: httpx.AsyncClient, sender: str
) -> None:
    order = from_sender(sender)

    response = await api.post(EMAIL, json=order, headers=stack.headers(ORG))

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == {
        SENDER_FIELD: [
            "Must be an address at a domain this service sends from: "
            "altinn.cloud, bølgen.no, service.example.no."
        ]
    }
    assert await received_for(stack.simulator, ORG, order["idempotencyId"]) == []


async def test_without_the_setting_any_sender_is_sent(stack: Stack) -> None:
    """As Altinn: the default, for a deployment whose providers send from any domain."""
    order = from_sender("ceo@other-bank.example")

    response = await stack.api.post(EMAIL, json=order, headers=stack.headers(ORG))

    assert response.status_code == 201, response.text
