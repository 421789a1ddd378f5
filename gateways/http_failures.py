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


def unavailable(provider: str, response: httpx.Response) -> GatewayUnavailable:
    """The gateway answered that it did not take the message (throttled, down, misconfigured)."""
    return GatewayUnavailable(f"{provider} answered {response.status_code}")


def json_object(response: httpx.Response) -> dict[str, object]:
    """The body as a JSON object, or empty when it is not one (an error page, a proxy's HTML)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
