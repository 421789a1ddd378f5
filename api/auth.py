"""Bearer-token authentication: who the caller is (the `org` claim) and whether it may order."""

import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import jwt

from api.problems import Problem
from domain.ids import MAX_ORG_LENGTH

_ORG = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ORG_LENGTH}}}")
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


class SignatureVerifier(TokenVerifier, Protocol):
    """The verifier of one kind of signature; `trusted_seconds`: how long its verification
    holds before the token is checked again."""

    @property
    def trusted_seconds(self) -> float: ...


class HmacTokenVerifier:
    """HS256 tokens signed with a shared secret: development and simple deployments."""

    # The secret is the process's own setting: it cannot change under a running process.
    trusted_seconds = math.inf

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
    an algorithm with no verifier configured is refused.

    A token whose `exp` lies more than `max_lifetime_seconds` ahead is refused, whoever signed
    it: a token minted to last for years, once leaked, would order for years.

    A token once verified is remembered with its claims until it expires, or until its
    verifier's `trusted_seconds` have passed (a withdrawn key must stop working): a backend
    sends the same token with order after order, and verifying it again cost more than the
    rest of the route's checks. Only the whole token is a key, so no other token can use its
    entry.
    """

    def __init__(
        self,
        by_algorithm: dict[str, SignatureVerifier],
        max_lifetime_seconds: float = 24 * 3600,
        leeway_seconds: float = 60,
        remember: int = 4096,
    ) -> None:
        self._by_algorithm = by_algorithm
        self._max_lifetime = max_lifetime_seconds
        self._leeway = leeway_seconds  # an issuer's clock ahead of ours
        self._verified: OrderedDict[str, tuple[dict[str, object], float]] = OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()  # new tokens are verified on the thread pool

    def knows(self, token: str) -> bool:
        """Whether `verify` answers from memory, with no work that could block."""
        return self._remembered(token) is not None

    def verify(self, token: str) -> dict[str, object]:
        claims = self._remembered(token)
        if claims is not None:
            return claims
        verifier = self._verifier(token)
        claims = verifier.verify(token)
        expires = claims.get("exp")
        if isinstance(expires, int | float):
            now = time.time()
            # Compared as it is: an integer past a float's range (exp = 10**400) is a far
            # future, not an error.
            if expires > now + self._max_lifetime + self._leeway:
                raise InvalidToken(
                    f"it expires more than {self._max_lifetime:g} s from now,"
                    " longer than a token may live here"
                )
            until = min(expires, now + verifier.trusted_seconds)
            with self._lock:
                self._verified[token] = (claims, until)
                while len(self._verified) > self._remember:
                    self._verified.popitem(last=False)
        return claims

    def _remembered(self, token: str) -> dict[str, object] | None:
        with self._lock:
            entry = self._verified.get(token)
            if entry is None:
                return None
            if entry[1] <= time.time():
                del self._verified[token]
                return None
            self._verified.move_to_end(token)
            return entry[0]

    def _verifier(self, token: str) -> SignatureVerifier:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        verifier = self._by_algorithm.get(str(algorithm))
        if verifier is None:
            raise InvalidToken(f"algorithm {algorithm!r} is not accepted")
        return verifier


def authorize(token: str | None, verifier: TokenVerifier, scope: str) -> dict[str, object]:
    """The token's claims, once it is verified and holds `scope`: 401, 403 or 503 otherwise."""
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
    if scope not in _scopes(claims):
        raise Problem(403, "Forbidden", f"The token lacks the scope {scope}.")
    return claims


def authenticate(token: str | None, verifier: TokenVerifier, scope: str) -> Principal:
    """A tenant's caller: `authorize`, and the tenant from the token's `org` claim."""
    claims = authorize(token, verifier, scope)
    org = claims.get("org")
    if not isinstance(org, str) or not _ORG.fullmatch(org):
        raise Problem(403, "Forbidden", "The token carries no valid org claim.")
    return Principal(org=org, scopes=_scopes(claims))


def _scopes(claims: dict[str, object]) -> frozenset[str]:
    return frozenset(str(claims.get("scope", "")).split())
