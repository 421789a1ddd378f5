"""The codec server of the Temporal UI and CLI: Temporal's remote codec protocol over HTTP.

The UI posts each payload it shows to `/codec/decode` (with the namespace in `X-Namespace`);
the answer is the payload opened and with message bodies and subjects redacted. `/codec/encode`
seals what an operator types into the UI (a signal's input, say).
"""

from typing import Annotated

from fastapi import APIRouter, Header

from api.deps import CodecCaller, CodecDep, TemporalDep
from api.problems import Problem
from api.schemas.codec import PayloadsJson
from api.schemas.problems import problem_responses

router = APIRouter(prefix="/codec", tags=["Codec"])

Namespace = Annotated[
    str | None, Header(alias="X-Namespace", description="The namespace of the payloads.")
]
_ANSWERS = problem_responses(400, 401, 403, 404, 413, 503)


@router.post("/decode", responses=_ANSWERS)
async def decode(
    body: PayloadsJson,
    _caller: CodecCaller,
    codec: CodecDep,
    temporal: TemporalDep,
    namespace: Namespace = None,
) -> PayloadsJson:
    """Open sealed payloads and redact message bodies and subjects; the rest stays readable."""
    _same_namespace(namespace, temporal.namespace)
    return PayloadsJson.of(await codec.decode(body.to_payloads()))


@router.post("/encode", responses=_ANSWERS)
async def encode(
    body: PayloadsJson,
    _caller: CodecCaller,
    codec: CodecDep,
    temporal: TemporalDep,
    namespace: Namespace = None,
) -> PayloadsJson:
    """Seal payloads as the API and the worker do."""
    _same_namespace(namespace, temporal.namespace)
    return PayloadsJson.of(await codec.encode(body.to_payloads()))


def _same_namespace(asked: str | None, served: str) -> None:
    """One codec serves one namespace; a UI pointed here for another gets a clear answer."""
    if asked is not None and asked != served:
        raise Problem(404, "Not Found", f"This codec serves the namespace {served!r} only.")
