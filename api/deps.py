"""Typed dependencies: the shared clients made once by the lifespan, and the caller's tenant.

Dependencies that do no blocking work are `async def`: FastAPI runs a plain `def` dependency
in its thread pool, a hop that costs more than the work itself."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from temporalio.client import Client

from api.auth import Principal, TokenVerifier, authenticate
from api.completions import CompletionWatcher
from api.ordering import OrderService
from api.reports_inbox import ReportInbox
from core.config import Settings


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


async def _orders(request: Request) -> OrderService:
    service: OrderService = request.app.state.orders
    return service


async def _temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


async def _completions(request: Request) -> CompletionWatcher:
    watcher: CompletionWatcher = request.app.state.completions
    return watcher


async def _inbox(request: Request) -> ReportInbox:
    inbox: ReportInbox = request.app.state.inbox
    return inbox


_bearer = HTTPBearer(
    auto_error=False,
    description="A JWT whose `org` claim is the tenant and whose `scope` has the order scope.",
)


def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    token = credentials.credentials if credentials is not None else None
    return authenticate(token, verifier, request.app.state.settings.auth_scope)


async def _tenant(principal: Annotated[Principal, Depends(_principal)]) -> str:
    return principal.org


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
OrdersDep = Annotated[OrderService, Depends(_orders)]
InboxDep = Annotated[ReportInbox, Depends(_inbox)]
TemporalDep = Annotated[Client, Depends(_temporal)]
CompletionsDep = Annotated[CompletionWatcher, Depends(_completions)]
Tenant = Annotated[str, Depends(_tenant)]
