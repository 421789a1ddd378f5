"""What a failed connection to Temporal means, told by the setting to change.

The SDK reports a refused certificate, a missing client certificate or a refused API key as
the text of its transport error; this reads that text. A failure it recognises is a setting
that cannot work (retrying will not help); anything else may be an outage.
"""

from dataclasses import dataclass

from temporalio.envconfig import ClientConfigProfile

CA = "TEMPORAL_TLS_SERVER_CA_CERT_PATH"
CLIENT_CERT = "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH"


@dataclass(frozen=True)
class Diagnosis:
    hint: str
    misconfigured: bool
    # A server that wants a client certificate says so in a TLS alert, which can lose the race
    # with the connection's close: asking again usually hears it.
    ask_again: bool = False


# Substrings of the SDK's error text, in order; the first found decides.
_CERTAIN = (
    ("NotValidForName", "the server's certificate does not carry the name dialled: set "
     "TEMPORAL_TLS_SERVER_NAME to a name it carries"),
    ("UnknownIssuer", f"the server's certificate is not signed by the CA of {CA} (the "
     "system's CAs when it is unset)"),
    ("InvalidCertificate", f"the server's certificate was refused: check {CA} and "
     "TEMPORAL_TLS_SERVER_NAME"),
    ("InvalidContentType", "the server does not speak TLS there: unset TEMPORAL_TLS and the "
     "TEMPORAL_TLS_* paths, or use its TLS address"),
    ("H2NotNegotiated", "the TLS endpoint did not agree on HTTP/2 (ALPN h2): a TLS terminator "
     "in front of Temporal must offer h2"),
    ("code: Unauthenticated", "the server refused the credentials: check TEMPORAL_API_KEY "
     f"(or {CLIENT_CERT}) and TEMPORAL_NAMESPACE"),
    ("code: PermissionDenied", "the credentials may not use this namespace: check "
     "TEMPORAL_API_KEY, the client certificate and TEMPORAL_NAMESPACE"),
)  # fmt: skip
# TLS alerts the server sends about our client certificate.
_CLIENT_CERT_ALERTS = (
    "CertificateRequired",
    "HandshakeFailure",
    "BadCertificate",
    "UnknownCA",
    "CertificateUnknown",
    "DecryptError",
)


def diagnose(error: str, profile: ClientConfigProfile) -> Diagnosis:
    for sign, hint in _CERTAIN:
        if sign in error:
            return Diagnosis(hint, misconfigured=True)
    tls = uses_tls(profile)
    if tls and any(alert in error for alert in _CLIENT_CERT_ALERTS):
        has_cert = profile.tls is not None and profile.tls.client_cert is not None
        hint = (
            f"the server refused the client certificate of {CLIENT_CERT}"
            if has_cert
            else f"the server requires a client certificate (mutual TLS): set {CLIENT_CERT}"
        )
        return Diagnosis(hint, misconfigured=True)
    closed = "after connection" in error
    if tls and closed and (profile.tls is None or profile.tls.client_cert is None):
        return Diagnosis(
            "the server closed the TLS connection: if it requires a client certificate "
            f"(mutual TLS), set {CLIENT_CERT}",
            misconfigured=False,
            ask_again=True,
        )
    if not tls and closed:
        return Diagnosis(
            "the server closed the connection: if it requires TLS, set TEMPORAL_TLS=true",
            misconfigured=False,
        )
    return Diagnosis("Temporal is unreachable", misconfigured=False)


def uses_tls(profile: ClientConfigProfile) -> bool:
    """As the SDK decides: a TLS section not disabled, or an API key without one."""
    if profile.tls is None:
        return profile.api_key is not None
    return profile.tls.disabled is not True


def describe(error: str, profile: ClientConfigProfile) -> str:
    """One line for the log: where, what to change, and the SDK's own words."""
    return (
        f"cannot connect to Temporal at {profile.address} (namespace {profile.namespace}): "
        f"{diagnose(error, profile).hint} [{error}]"
    )
