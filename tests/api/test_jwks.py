"""Production tokens: RS256/ES256 against a local JWKS endpoint, with rotation and leeway."""

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI, HTTPException

from api.auth import InvalidToken, TokenVerifiers
from api.jwks import ALGORITHMS, JwksKeys, JwksTokenVerifier
from devstack.processes import free_port
from devstack.token import bearer
from tests.support.answers import assert_problem
from tests.support.inprocess import api_for
from tests.support.polling import eventually
from tests.support.routes import FEED
from tests.support.serving import serving
from tests.support.stack import Stack

ISSUER = "https://idp.example.test"
AUDIENCE = "notifications"


@dataclass
class KeySet:
    """The identity provider's keys; tests rotate them while the API runs."""

    keys: dict[str, Any] = field(default_factory=dict)
    fetches: int = 0
    # The provider answers 503 to every fetch while this is set.
    failing: bool = False
    # While set and not open, every fetch waits for it: a slow provider.
    gate: asyncio.Event | None = None

    def add(self, kid: str, algorithm: str) -> Any:
        private = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if algorithm == "RS256"
            else ec.generate_private_key(ec.SECP256R1())
        )
        self.keys[kid] = (algorithm, private)
        return private

    def document(self) -> dict[str, Any]:
        entries = []
        for kid, (algorithm, private) in self.keys.items():
            algo = (
                jwt.algorithms.RSAAlgorithm if algorithm == "RS256" else jwt.algorithms.ECAlgorithm
            )
            entry = json.loads(algo.to_jwk(private.public_key()))
            entries.append({**entry, "kid": kid, "alg": algorithm, "use": "sig"})
        return {"keys": entries}

    def token(self, kid: str, **claims: Any) -> str:
        algorithm, private = self.keys[kid]
        now = int(time.time())
        body = {
            "org": "ttd",
            "scope": "altinn:serviceowner/notifications.create",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, private, algorithm=algorithm, headers={"kid": kid})


@pytest.fixture
async def idp() -> AsyncIterator[tuple[KeySet, str]]:
    keyset = KeySet()
    app = FastAPI()

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        keyset.fetches += 1
        if keyset.gate is not None:
            await keyset.gate.wait()
        if keyset.failing:
            raise HTTPException(503)
        return keyset.document()

    async with serving(app) as base:
        yield keyset, f"{base}/jwks"


@pytest.fixture
async def api(stack: Stack, idp: tuple[KeySet, str]) -> AsyncIterator[httpx.AsyncClient]:
    settings = stack.settings.model_copy(
        update={
            "auth_jwks_url": idp[1],
            "auth_issuer": ISSUER,
            "auth_audience": AUDIENCE,
            "auth_leeway_seconds": 30,
        }
    )
    async with api_for(settings, stack.connection) as client:
        yield client


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
async def test_signed_by_the_provider_is_accepted(
    api: httpx.AsyncClient, idp: tuple[KeySet, str], algorithm: str
) -> None:
    keyset, _ = idp
    keyset.add("k1", algorithm)

    response = await api.get(
        FEED, headers=bearer(keyset.token("k1", org=f"o{uuid.uuid4().hex[:6]}"))
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "https://evil.example"}, "issuer"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": None}, "issuer"),
        ({"exp": None}, "exp"),
        ({"exp": -120}, "expired"),
        ({"nbf": 120}, "nbf"),
    ],
    ids=["issuer", "audience", "no-issuer", "no-exp", "expired", "not-yet-valid"],
)
async def test_claims_are_checked(
    api: httpx.AsyncClient, idp: tuple[KeySet, str], claims: dict[str, Any], reason: str
) -> None:
    """Times are seconds from now, taken when the test runs: a time taken at collection would
    fall inside the leeway once the suite has run for a minute."""
    keyset, _ = idp
    keyset.add("k1", "RS256")
    now = int(time.time())
    claims = {k: now + v if k in ("exp", "nbf") and v is not None else v for k, v in claims.items()}

    response = await api.get(FEED, headers=bearer(keyset.token("k1", **claims)))

    assert_problem(response, 401)


async def test_clock_skew_within_the_leeway_is_tolerated(
    api: httpx.AsyncClient, idp: tuple[KeySet, str]
) -> None:
    keyset, _ = idp
    keyset.add("k1", "ES256")
    now = int(time.time())

    expired_a_little = await api.get(FEED, headers=bearer(keyset.token("k1", exp=now - 10)))
    issued_ahead = await api.get(FEED, headers=bearer(keyset.token("k1", nbf=now + 10)))

    assert (expired_a_little.status_code, issued_ahead.status_code) == (200, 200)


async def test_rotation_by_kid(idp: tuple[KeySet, str]) -> None:
    keyset, url = idp
    keyset.add("old", "RS256")
    keys = JwksKeys(url, cache_seconds=0.5, min_refresh_seconds=0.1)
    verifier = JwksTokenVerifier(keys, ISSUER, AUDIENCE, leeway_seconds=0)
    assert (await asyncio.to_thread(verifier.verify, keyset.token("old")))["org"] == "ttd"
    retired = keyset.token("old")
    keyset.add("new", "ES256")
    del keyset.keys["old"]
    await asyncio.sleep(0.2)

    rotated = await asyncio.to_thread(verifier.verify, keyset.token("new"))
    await asyncio.sleep(0.6)

    assert rotated["org"] == "ttd"
    with pytest.raises(InvalidToken):
        await asyncio.to_thread(verifier.verify, retired)


async def test_a_withdrawn_key_stops_verifying_a_token_already_remembered(
    idp: tuple[KeySet, str],
) -> None:
    """Remembered until its exp, a token signed with a withdrawn key went on working for
    hours; now no longer than the key set it was checked against is kept. Here it is first
    seen late in that set's life, and the key goes before the set is fetched again."""
    keyset, url = idp
    keyset.add("old", "RS256")
    jwks = JwksTokenVerifier(JwksKeys(url, 1.0, min_refresh_seconds=0.1), ISSUER, AUDIENCE, 0)
    verifiers = TokenVerifiers(dict.fromkeys(ALGORITHMS, jwks))
    await asyncio.to_thread(verifiers.verify, keyset.token("old"))  # the set is fetched
    await asyncio.sleep(0.7)
    token = keyset.token("old", exp=int(time.time()) + 3600)
    first = await asyncio.to_thread(verifiers.verify, token)
    keyset.add("new", "ES256")
    del keyset.keys["old"]
    await asyncio.sleep(0.4)  # the set is due again

    assert first["org"] == "ttd"
    assert not verifiers.knows(token)
    with pytest.raises(InvalidToken):
        await asyncio.to_thread(verifiers.verify, token)


async def test_a_failing_provider_is_asked_no_more_often_than_an_unknown_key_would(
    idp: tuple[KeySet, str],
) -> None:
    """With its key set past its cache time and the provider failing, every new token asked
    it again, each holding the lock for up to the fetch's timeout."""
    keyset, url = idp
    keyset.add("k1", "RS256")
    jwks = JwksTokenVerifier(JwksKeys(url, 0.3, min_refresh_seconds=1), ISSUER, AUDIENCE, 0)
    await asyncio.to_thread(jwks.verify, keyset.token("k1"))
    keyset.failing = True
    await asyncio.sleep(1.1)  # past the cache time and the throttle
    fetched = keyset.fetches

    verified = [
        await asyncio.to_thread(jwks.verify, keyset.token("k1", jti=str(n))) for n in range(20)
    ]

    assert keyset.fetches == fetched + 1  # one failed fetch; the keys it had serve meanwhile
    assert all(claims["org"] == "ttd" for claims in verified)


async def test_made_up_key_ids_do_not_flood_the_provider(idp: tuple[KeySet, str]) -> None:
    keyset, url = idp
    keyset.add("k1", "RS256")
    verifier = JwksTokenVerifier(JwksKeys(url, cache_seconds=300), ISSUER, AUDIENCE, 0)
    await asyncio.to_thread(verifier.verify, keyset.token("k1"))
    fetched = keyset.fetches
    keyset.add("made-up", "RS256")
    forged = keyset.token("made-up")
    del keyset.keys["made-up"]

    for _ in range(20):
        with pytest.raises(InvalidToken):
            await asyncio.to_thread(verifier.verify, forged)

    assert keyset.fetches == fetched


async def test_a_fetch_under_way_holds_up_no_token_whose_key_is_known(
    idp: tuple[KeySet, str],
) -> None:
    """A made-up key id starts a fetch from a slow provider; a token signed with a key the
    set already holds is verified meanwhile, not after the fetch."""
    keyset, url = idp
    keyset.add("k1", "RS256")
    keys = JwksKeys(url, cache_seconds=300, timeout_seconds=30, min_refresh_seconds=0)
    verifier = JwksTokenVerifier(keys, ISSUER, AUDIENCE, leeway_seconds=0)
    await asyncio.to_thread(verifier.verify, keyset.token("k1"))
    keyset.add("made-up", "RS256")
    forged = keyset.token("made-up")
    del keyset.keys["made-up"]
    keyset.gate = asyncio.Event()
    fetched = keyset.fetches

    unknown = asyncio.ensure_future(asyncio.to_thread(verifier.verify, forged))

    async def fetch_waiting() -> bool:
        return keyset.fetches > fetched

    await eventually(fetch_waiting)
    try:
        known = await asyncio.wait_for(
            # Far below the fetch's own 30 s: the known key does not wait for it.
            asyncio.to_thread(verifier.verify, keyset.token("k1", jti="2")),
            timeout=5,
        )
    finally:
        keyset.gate.set()
    with pytest.raises(InvalidToken):
        await unknown

    assert known["org"] == "ttd"


async def test_unreachable_key_set_is_503(stack: Stack) -> None:
    settings = stack.settings.model_copy(
        update={"auth_jwks_url": f"http://127.0.0.1:{free_port()}/jwks", "auth_issuer": ISSUER}
    )
    keyset = KeySet()
    keyset.add("k1", "RS256")
    async with api_for(settings, stack.connection) as client:
        response = await client.get(FEED, headers=bearer(keyset.token("k1")))
        # Within the refetch throttle: still unavailable, not a bad token.
        again = await client.get(FEED, headers=bearer(keyset.token("k1", jti="2")))

    assert_problem(response, 503)
    assert_problem(again, 503)


async def test_forged_algorithms_are_refused(
    api: httpx.AsyncClient, idp: tuple[KeySet, str]
) -> None:
    keyset, _ = idp
    private = keyset.add("k1", "RS256")
    claims = {
        "org": "ttd",
        "scope": "altinn:serviceowner/notifications.create",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": int(time.time()) + 60,
    }
    public_pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    # The classic confusion: HMAC keyed with the provider's public key.
    hs256 = hmac_token({"alg": "HS256", "kid": "k1", "typ": "JWT"}, claims, public_pem)
    unsigned = jwt.encode(claims, "", algorithm="none", headers={"kid": "k1"})

    for token in (hs256, unsigned):
        assert (await api.get(FEED, headers=bearer(token))).status_code == 401


def hmac_token(header: dict[str, str], claims: dict[str, Any], key: bytes) -> str:
    def part(value: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    signing_input = part(header) + b"." + part(claims)
    signature = base64.urlsafe_b64encode(hmac.new(key, signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature.rstrip(b"=")).decode()
