"""Authentication and authorisation: 401 without a valid token, 403 without the scope or org."""

import asyncio
import math
import time

import jwt
import pytest

from api.auth import HmacTokenVerifier, TokenVerifiers
from devstack.token import bearer, mint_token
from tests.support.answers import assert_problem
from tests.support.bodies import sms_order
from tests.support.routes import FEED, SHIPMENT, SMS
from tests.support.stack import Stack, Tenant


def token(stack: Stack, **claims: object) -> dict[str, str]:
    """Headers with a token of the stack's secret and these claims (None leaves one out)."""
    now = int(time.time())
    body = {"org": "ttd", "scope": stack.settings.auth_scope, "iat": now, "exp": now + 300}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return bearer(jwt.encode(body, stack.settings.auth_jwt_secret, algorithm="HS256"))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not.a.jwt"},
    ],
    ids=["missing", "empty", "wrong-scheme", "malformed"],
)
async def test_missing_or_malformed_token_is_401(stack: Stack, headers: dict[str, str]) -> None:
    response = await stack.api.post(SMS, json=sms_order(), headers=headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_expired_token_is_401(stack: Stack) -> None:
    response = await stack.api.post(
        SMS, json=sms_order(), headers=token(stack, exp=int(time.time()) - 60)
    )
    assert_problem(response, 401)


@pytest.mark.parametrize("lifetime", [25 * 3600, 10**400], ids=["a day and more", "past floats"])
async def test_a_token_living_longer_than_allowed_is_401(stack: Stack, lifetime: int) -> None:
    response = await stack.api.get(FEED, headers=token(stack, exp=int(time.time()) + lifetime))
    problem = assert_problem(response, 401)
    assert "expires more than 86400 s from now" in problem["detail"]


@pytest.mark.parametrize("ahead", [-5, 30], ids=["within", "an issuer's clock 30 s ahead"])
async def test_a_token_living_as_long_as_allowed_is_accepted(stack: Stack, ahead: int) -> None:
    """Up to the lifetime, and by the clocks' leeway (AUTH_LEEWAY_SECONDS) past it: a token
    minted for the whole lifetime by an issuer whose clock runs ahead of ours."""
    exp = int(time.time()) + stack.settings.auth_max_token_lifetime_seconds + ahead
    response = await stack.api.get(FEED, headers=token(stack, exp=exp))
    assert response.status_code == 200, response.text


async def test_token_without_exp_is_401(stack: Stack) -> None:
    response = await stack.api.post(SMS, json=sms_order(), headers=token(stack, exp=None))
    assert_problem(response, 401)


async def test_token_signed_with_another_secret_is_401(stack: Stack) -> None:
    now = int(time.time())
    forged = jwt.encode(
        {"org": "ttd", "scope": stack.settings.auth_scope, "exp": now + 60},
        "another-secret-of-sufficient-length-0123456789",
        algorithm="HS256",
    )
    response = await stack.api.post(SMS, json=sms_order(), headers=bearer(forged))
    assert_problem(response, 401)


async def test_unsigned_token_is_401(stack: Stack) -> None:
    now = int(time.time())
    unsigned = jwt.encode(
        {"org": "ttd", "scope": stack.settings.auth_scope, "exp": now + 60}, "", algorithm="none"
    )
    response = await stack.api.post(SMS, json=sms_order(), headers=bearer(unsigned))
    assert_problem(response, 401)


@pytest.mark.parametrize(
    "scope",
    [
        "",
        "altinn:serviceowner/notifications.read",
        "altinn:serviceowner/notifications.create.extra",
    ],
)
async def test_token_without_the_scope_is_403(stack: Stack, scope: str) -> None:
    response = await stack.api.post(SMS, json=sms_order(), headers=token(stack, scope=scope))
    assert_problem(response, 403)


async def test_scope_among_others_is_accepted(stack: Stack, tenant: Tenant) -> None:
    scope = f"openid {stack.settings.auth_scope} profile"
    headers = token(stack, scope=scope, org=tenant.org)
    response = await stack.api.post(SMS, json=sms_order(), headers=headers)
    assert response.status_code == 201


@pytest.mark.parametrize("org", [None, "", "has/slash", "ttd\n", 42])
async def test_token_without_a_valid_org_is_403(stack: Stack, org: object) -> None:
    claims = {"org": org} if org is not None else {"org": None}
    response = await stack.api.post(SMS, json=sms_order(), headers=token(stack, **claims))
    assert_problem(response, 403)


@pytest.mark.parametrize("path", [f"{SHIPMENT}/00000000-0000-0000-0000-000000000000", FEED])
async def test_reads_need_a_token(stack: Stack, path: str) -> None:
    assert_problem(await stack.api.get(path), 401)


async def test_a_remembered_token_is_refused_once_it_expires(stack: Stack) -> None:
    expires = int(time.time()) + 2
    expiring = token(stack, exp=expires)

    before = await stack.api.get(FEED, headers=expiring)
    again = await stack.api.get(FEED, headers=expiring)
    await asyncio.sleep(expires - time.time() + 1.1)  # past its exp (whole seconds)
    after = await stack.api.get(FEED, headers=expiring)

    assert before.status_code == again.status_code == 200
    assert_problem(after, 401)


def test_verified_tokens_are_remembered_up_to_a_bound() -> None:
    secret = "s" * 40
    hmac = HmacTokenVerifier(secret)
    checked: list[str] = []

    class Counting:
        trusted_seconds = math.inf

        def verify(self, token: str) -> dict[str, object]:
            checked.append(token)
            return hmac.verify(token)

    verifiers = TokenVerifiers({"HS256": Counting()}, remember=2)
    tokens = [mint_token(secret, f"org{n}", "s") for n in range(3)]

    for each in (*tokens, tokens[2], tokens[1], tokens[0]):
        verifiers.verify(each)

    # The first token was forgotten to keep two; the others were not verified twice.
    assert checked == [tokens[0], tokens[1], tokens[2], tokens[0]]
    assert verifiers.knows(tokens[0])
    assert not verifiers.knows("not-a-token")
