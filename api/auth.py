"""Bearer-token authentication: who the caller is (the `org` claim) and whether it may order."""

import re
from dataclasses import dataclass
from typing import Protocol

import jwt

from api.problems import Problem
from domain.ids import MAX_ORG_LENGTH

_ORG = re.compile(rf"^[A-Za-z0-9_-]{{1,{MAX_ORG_LENGTH}}}$")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="notifications"'}


@dataclass(frozen=True)
class Principal:
    org: str
    scopes: frozenset[str]


class InvalidToken(Exception):
    pass


class VerifierUnavailable(Exception):
    """The keys to check a token cannot be had right now; the caller may retry."""


class TokenVerifier(Protocol):
    """Checks a token's signature and lifetime and returns its claims; one replaceable piece."""

    def verify(self, token: str) -> dict[str, object]: ...


class HmacTokenVerifier:
    """HS256 tokens signed with a shared secret: development and simple deployments."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def verify(self, token: str) -> dict[str, object]:
        try:
            return jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"require": ["exp"]}
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc


class TokenVerifiers:
    """Picks the verifier by the token's algorithm: HS256 (shared secret) or RS256/ES256 (JWKS);
    an algorithm with no verifier configured is refused."""

    def __init__(self, by_algorithm: dict[str, TokenVerifier]) -> None:
        self._by_algorithm = by_algorithm

    def verify(self, token: str) -> dict[str, object]:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        verifier = self._by_algorithm.get(str(algorithm))
        if verifier is None:
            raise InvalidToken(f"algorithm {algorithm!r} is not accepted")
        return verifier.verify(token)


def authenticate(token: str | None, verifier: TokenVerifier, scope: str) -> Principal:
    if not token or not token.strip():
        raise Problem(401, "Unauthorized", "A bearer token is required.", headers=_CHALLENGE)
    try:
        claims = verifier.verify(token.strip())
    except VerifierUnavailable as exc:
        raise Problem(
            503,
            "Service Unavailable",
            "The token cannot be verified right now.",
            headers={"Retry-After": "5"},
        ) from exc
    except InvalidToken as exc:
        raise Problem(
            401, "Unauthorized", f"The token is not valid: {exc}.", headers=_CHALLENGE
        ) from exc
    scopes = frozenset(str(claims.get("scope", "")).split())
    if scope not in scopes:
        raise Problem(403, "Forbidden", f"The token lacks the scope {scope}.")
    org = claims.get("org")
    if not isinstance(org, str) or not _ORG.match(org):
        raise Problem(403, "Forbidden", "The token carries no valid org claim.")
    return Principal(org=org, scopes=scopes)
