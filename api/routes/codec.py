"""The codec server of the Temporal UI and CLI: Temporal's remote codec protocol over HTTP.

The UI posts each payload it shows to `/codec/decode` (with the namespace in `X-Namespace`);
the answer is the payload opened and with message bodies and subjects redacted. `/codec/encode`
seals what an operator types into the UI (a signal's input, say).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Header

from api.deps import CodecCaller, CodecDep, TemporalDep
from api.problems import Problem
from api.schemas.codec import PayloadsJson
from api.schemas.problems import problem_responses


async def _authorized_for_this_namespace(
    _caller: CodecCaller,
    temporal: TemporalDep,
    namespace: Annotated[
        str | None, Header(alias="X-Namespace", description="The namespace of the payloads.")
    ] = None,
) -> None:
    """A caller with CODEC_SCOPE, first; then the namespace: one codec serves one, and a UI
    pointed here for another gets a clear answer."""
    if namespace and namespace != temporal.namespace:
        raise Problem(
            404, "Not Found", f"This codec serves the namespace {temporal.namespace!r} only."
        )


router = APIRouter(
    prefix="/codec",
    tags=["Codec"],
    dependencies=[Depends(_authorized_for_this_namespace)],
    responses=problem_responses(
        400, 401, 403, 404, 413, 415, 503, described={404: "Another namespace than this codec's."}
    ),
)


@router.post("/decode")
async def decode(body: PayloadsJson, codec: CodecDep) -> PayloadsJson:
    """Open sealed payloads and redact message bodies and subjects; the rest stays readable."""
    return PayloadsJson.of(await codec.decode(body.to_payloads()))


@router.post("/encode")
async def encode(body: PayloadsJson, codec: CodecDep) -> PayloadsJson:
    """Seal payloads as the API and the worker do."""
    return PayloadsJson.of(await codec.encode(body.to_payloads()))
