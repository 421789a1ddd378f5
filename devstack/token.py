"""Development tokens: `python -m devstack.token --org ttd` prints one for AUTH_JWT_SECRET
(`--scope notifications.codec` for the codec server)."""

import argparse
import sys
import time

import jwt

from core.config import Settings, get_settings


def mint_token(secret: str, org: str, scope: str, lifetime_seconds: int = 12 * 3600) -> str:
    now = int(time.time())
    claims = {"org": org, "scope": scope, "iat": now, "exp": now + lifetime_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def auth_headers(settings: Settings, org: str, scope: str | None = None) -> dict[str, str]:
    """Request headers with a development token of `org`, by default with the required scope."""
    return bearer(mint_token(settings.auth_jwt_secret, org, scope or settings.auth_scope))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--org", default="ttd")
    parser.add_argument("--hours", type=float, default=12)
    parser.add_argument("--scope", help="the token's scope; AUTH_SCOPE when not given")
    args = parser.parse_args()
    settings = get_settings()
    if args.hours * 3600 > settings.auth_max_token_lifetime_seconds:
        limit = settings.auth_max_token_lifetime_seconds / 3600
        parser.error(f"the API refuses tokens living longer than {limit:g} hours")
    scope = args.scope or settings.auth_scope
    token = mint_token(settings.auth_jwt_secret, args.org, scope, int(args.hours * 3600))
    sys.stdout.write(token + "\n")


if __name__ == "__main__":
    main()
