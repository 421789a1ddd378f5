"""Against SMS pumping: numbers of a country not allowed, and premium-rate, shared-cost, UAN,
voicemail and pager numbers are 400 naming the field, with nothing sent, and counted."""

import pytest
from prometheus_client import REGISTRY

from api.pumping import refusal
from tests.support.bodies import deprecated_order, sms_order
from tests.support.inprocess import api_for
from tests.support.routes import DEPRECATED, SMS
from tests.support.stack import Stack, Tenant

# libphonenumber's own example numbers of each refused type.
REFUSED_NUMBERS = {
    "+4782012345": "premium-rate",  # NO
    "+449012345678": "premium-rate",  # GB
    "+4781021234": "shared-cost",  # NO
    "+445512345678": "universal access number",  # GB
    "+46254123456789": "voicemail",  # SE
    "+447640123456": "pager",  # GB
}


def refused(reason: str) -> float:
    found = REGISTRY.get_sample_value(
        "notifications_sms_recipients_refused_total", {"reason": reason}
    )
    return found or 0.0


@pytest.mark.parametrize(("number", "kind"), REFUSED_NUMBERS.items())
async def test_numbers_of_a_toll_fraud_type_are_400_and_not_sent(
    stack: Stack, tenant: Tenant, number: str, kind: str
) -> None:
    before = refused("number_type")

    response = await stack.api.post(SMS, json=sms_order(number), headers=tenant.headers)

    assert response.status_code == 400
    [message] = response.json()["errors"]["recipientSms.phoneNumber"]
    assert kind in message
    assert refused("number_type") == before + 1
    assert (await stack.simulator.get("/messages", params={"to": number})).json() == []


async def test_the_deprecated_route_names_its_own_path(stack: Stack, tenant: Tenant) -> None:
    deprecated = deprecated_order(sms_order("+4782012345"))

    response = await stack.api.post(DEPRECATED, json=deprecated, headers=tenant.headers)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["recipient.recipientSms.phoneNumber"]


async def test_a_country_not_allowed_is_400_and_not_sent(stack: Stack) -> None:
    settings = stack.settings.model_copy(update={"sms_allowed_countries": ["NO", "DK"]})
    before = refused("country")
    async with api_for(settings, stack.connection) as api:
        swedish = await api.post(SMS, json=sms_order("+46701234567"), headers=stack.headers("ttd"))
        danish = await api.post(SMS, json=sms_order("+4520123456"), headers=stack.headers("ttd"))

    assert swedish.status_code == 400
    [message] = swedish.json()["errors"]["recipientSms.phoneNumber"]
    assert "SE" in message
    assert refused("country") == before + 1
    assert (await stack.simulator.get("/messages", params={"to": "+46701234567"})).json() == []
    assert danish.status_code == 201, danish.text


@pytest.mark.parametrize(
    ("number", "allowed", "reason"),
    [
        ("+4791234567", [], None),
        ("+4791234567", ["NO"], None),
        ("004791234567", ["SE"], "country"),
        ("+80012345678", ["NO"], "country"),  # an international freephone: no country
        ("+4740612345", [], None),  # a Norwegian mobile
        ("+4782012345", ["NO"], "number_type"),
    ],
)
def test_refusal_reasons(number: str, allowed: list[str], reason: str | None) -> None:
    found = refusal(number, allowed)
    assert (found[0] if found else None) == reason
