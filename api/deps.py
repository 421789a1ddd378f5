"""Typed dependencies: the shared clients made once by the lifespan, and the caller's tenant."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel import Session

from api.auth import Principal, TokenVerifier, authenticate
from api.ordering import OrderService
from api.reports_inbox import ReportInbox
from core.config import Settings


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


def _orders(request: Request) -> OrderService:
    service: OrderService = request.app.state.orders
    return service


def _inbox(request: Request) -> ReportInbox:
    inbox: ReportInbox = request.app.state.inbox
    return inbox


def _principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    return authenticate(authorization, verifier, request.app.state.settings.auth_scope)


def _tenant(principal: Annotated[Principal, Depends(_principal)]) -> str:
    return principal.org


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
OrdersDep = Annotated[OrderService, Depends(_orders)]
InboxDep = Annotated[ReportInbox, Depends(_inbox)]
Tenant = Annotated[str, Depends(_tenant)]
