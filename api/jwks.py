"""Production tokens: RS256/ES256 verified against the identity provider's JWKS."""

import logging
import threading
import time
from typing import Any

import httpx
import jwt

from api.auth import InvalidToken, VerifierUnavailable

log = logging.getLogger(__name__)

ALGORITHMS = ["RS256", "ES256"]
# An unknown `kid` refetches the key set, but no more often than this: a stream of tokens with
# made-up key ids must not turn into a stream of requests to the identity provider.
_MIN_REFRESH_SECONDS = 10.0


class JwksKeys:
    """The provider's signing keys by `kid`, cached, refetched on expiry or an unknown kid."""

    def __init__(
        self,
        url: str,
        cache_seconds: float,
        timeout_seconds: float = 5.0,
        min_refresh_seconds: float = _MIN_REFRESH_SECONDS,
    ) -> None:
        self._url = url
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh_seconds
        self._timeout = timeout_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        # The last fetch, answered or not: while the provider fails, the key set stays stale,
        # and without this every new token would ask it again.
        self._tried_at = float("-inf")
        self._lock = threading.Lock()
        # Set while a fetch is under way, and when it ends: one fetch at a time, made outside
        # the lock, so a token whose key is known never waits for a slow provider.
        self._fetching: threading.Event | None = None

    def fresh_seconds(self) -> float:
        """How long until the key set is due to be fetched again."""
        return max(self._fetched_at + self._cache_seconds - time.monotonic(), 0.0)

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            now = time.monotonic()
            wanted = now - self._fetched_at > self._cache_seconds or kid not in self._keys
            fetching = self._fetching
            mine = wanted and fetching is None and now - self._tried_at > self._min_refresh
            if mine:
                self._tried_at = now
                self._fetching = fetching = threading.Event()
        if mine and fetching is not None:
            try:
                self._refresh()
            finally:
                with self._lock:
                    self._fetching = None
                fetching.set()
        elif fetching is not None and kid not in self._keys:
            # Another's fetch is under way: only a key it may bring is worth waiting for.
            fetching.wait(self._timeout)
        keys = self._keys  # replaced whole by a fetch, never changed in place
        if not keys:  # none fetched yet, the provider failing
            raise VerifierUnavailable("key set unavailable")
        found = keys.get(kid)
        if found is None:
            raise InvalidToken(f"no signing key {kid!r}")
        return found

    def _refresh(self) -> None:
        try:
            response = httpx.get(self._url, timeout=self._timeout)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            # The keys we have go on serving until the provider answers again (`key`).
            log.warning("the identity provider's key set was not fetched: %s", type(exc).__name__)
            return
        self._keys = {key.key_id: key for key in keys if key.key_id}
        self._fetched_at = time.monotonic()


class JwksTokenVerifier:
    def __init__(self, keys: JwksKeys, issuer: str, audience: str, leeway_seconds: int) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds

    @property
    def trusted_seconds(self) -> float:
        """Until the key set is due again: a token verified now is checked again against the
        set fetched then, so a key the provider withdraws stops verifying within the cache
        time."""
        return self._keys.fresh_seconds()

    def verify(self, token: str) -> dict[str, object]:
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.key(str(header.get("kid", "")))
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                issuer=self._issuer or None,
                audience=self._audience or None,
                leeway=self._leeway,
                options={"require": ["exp"] + (["iss"] if self._issuer else [])},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        return claims
