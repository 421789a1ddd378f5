"""Reading a gateway's HTTP answer: what a failed exchange means for a retry (safe, or possibly
sent), and a JSON body that may not be JSON."""

import httpx

from gateways.base import GatewayUnavailable, HandoverAmbiguous

# Failures before the request left this machine: nothing can have reached the gateway.
_BEFORE_SENDING = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def transport_failure(
    provider: str, exc: httpx.TransportError
) -> GatewayUnavailable | HandoverAmbiguous:
    """What the failure says happened; whether a retry is safe is the handover's decision."""
    reason = type(exc).__name__
    if isinstance(exc, _BEFORE_SENDING):
        return GatewayUnavailable(f"{provider} unreachable: {reason}")
    return HandoverAmbiguous(f"{provider} did not answer after the request left: {reason}")


def answer_failure(
    provider: str, response: httpx.Response
) -> GatewayUnavailable | HandoverAmbiguous:
    """An answer that is neither the gateway's acceptance nor its refusal. A client error (but
    409, which may be a provider's "already have it") and 503 say the request was not acted on:
    throttled, down, misconfigured. Any other may come after the provider took the message: a
    500 after it made the record, a 502 or 504 from its edge after passing the request on, a
    success the protocol does not name."""
    code = response.status_code
    if code == 503 or (400 <= code < 500 and code != 409):
        return GatewayUnavailable(f"{provider} answered {code}")
    return HandoverAmbiguous(f"{provider} answered {code}: it may have taken the message")


def json_object(response: httpx.Response) -> dict[str, object]:
    """The body as a JSON object, or empty when it is not one (an error page, a proxy's HTML)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
