"""Typed dependencies: the shared clients made once by the lifespan, and the caller's tenant.

Dependencies that do no blocking work are `async def`: FastAPI runs a plain `def` dependency
in its thread pool, a hop that costs more than the work itself."""

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api.auth import Principal, TokenVerifiers, authenticate, authorize
from api.codec_service import CodecService
from api.completions import CompletionWatcher
from api.email_orders import EmailOrders
from api.ordering import OrderService
from api.reports_inbox import ReportInbox
from api.sms_orders import SmsOrders
from core.config import Settings

T = TypeVar("T")


def _shared(name: str, kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """The dependency that hands out what the lifespan made once under `name`."""

    async def shared(request: Request) -> T:
        value: T = getattr(request.app.state, name)
        return value

    return shared


_settings = _shared("settings", Settings)
_orders = _shared("orders", OrderService)
_temporal = _shared("temporal", Client)
_completions = _shared("completions", CompletionWatcher)
_inbox = _shared("inbox", ReportInbox)
_codec = _shared("codec", CodecService)
_sms_orders = _shared("sms_orders", SmsOrders)
_email_orders = _shared("email_orders", EmailOrders)


def _session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


_bearer = HTTPBearer(
    auto_error=False,
    description="A JWT whose `org` claim is the tenant and whose `scope` has the order scope.",
)


async def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    verifier: TokenVerifiers = request.app.state.verifier
    token = credentials.credentials if credentials is not None else None
    scope = request.app.state.settings.auth_scope
    if token is not None and verifier.knows(token.strip()):
        return authenticate(token, verifier, scope)
    # A new token may need the identity provider's keys, fetched over the network.
    return await run_in_threadpool(authenticate, token, verifier, scope)


async def _tenant(principal: Annotated[Principal, Depends(_principal)]) -> str:
    return principal.org


def _codec_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """A token with CODEC_SCOPE (no tenant needed); none at all when CODEC_SCOPE is empty."""
    scope: str = request.app.state.settings.codec_scope
    if scope:
        token = credentials.credentials if credentials is not None else None
        authorize(token, request.app.state.verifier, scope)


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
OrdersDep = Annotated[OrderService, Depends(_orders)]
InboxDep = Annotated[ReportInbox, Depends(_inbox)]
TemporalDep = Annotated[Client, Depends(_temporal)]
CompletionsDep = Annotated[CompletionWatcher, Depends(_completions)]
CodecDep = Annotated[CodecService, Depends(_codec)]
SmsOrdersDep = Annotated[SmsOrders, Depends(_sms_orders)]
EmailOrdersDep = Annotated[EmailOrders, Depends(_email_orders)]
CodecCaller = Annotated[None, Depends(_codec_caller)]
Tenant = Annotated[str, Depends(_tenant)]
