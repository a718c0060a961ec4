"""Request dependencies as `Annotated` aliases, so routes declare what they need."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from chatbot.config import Settings, get_settings
from chatbot.escalation.calendars import Calendars
from chatbot.escalation.clock import Clock
from chatbot.escalation.users import Actor, authenticate, require_role
from chatbot.search_service import SearchService
from chatbot.storage import Database


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _search_service(request: Request) -> SearchService:
    service: SearchService | None = getattr(request.app.state, "search", None)
    if service is None:
        problem = getattr(request.app.state, "startup_problem", None)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail=problem or "search is not available on this server")
    return service


SettingsDep = Annotated[Settings, Depends(_settings)]
SearchServiceDep = Annotated[SearchService, Depends(_search_service)]


# --- escalation back office: database, clock, calendars, agents ----------------------


def _database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


def _read_session(request: Request) -> Iterator[Session]:
    with _database(request).session() as session:
        yield session


def _write_session(request: Request) -> Iterator[Session]:
    with _database(request).write_session() as session:
        yield session


def get_now(request: Request) -> datetime:
    """The current time; tests replace `app.state.clock` instead of the real date."""
    clock: Clock = request.app.state.clock
    return clock()


def _calendars(request: Request) -> Calendars:
    calendars: Calendars = request.app.state.calendars
    return calendars


_bearer = HTTPBearer(auto_error=False, description="An agent's or editor's token "
                                                   "(`chatbot users add NAME --role ...`)")


def _actor(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                    Depends(_bearer)]) -> Actor:
    # A short session of its own: the route's session may be a writing one, and
    # authentication must not hold SQLite's write lock.
    with _database(request).session() as session:
        return authenticate(session, token=credentials.credentials if credentials else None)


def _with_role(*roles: str) -> object:
    def dependency(actor: Annotated[Actor, Depends(_actor)]) -> Actor:
        return require_role(actor, *roles)

    return Depends(dependency)


DbSession = Annotated[Session, Depends(_read_session)]
DbWriteSession = Annotated[Session, Depends(_write_session)]
NowDep = Annotated[datetime, Depends(get_now)]
CalendarsDep = Annotated[Calendars, Depends(_calendars)]
CurrentUser = Annotated[Actor, Depends(_actor)]
CurrentAgent = Annotated[Actor, _with_role("agent")]
CurrentEditor = Annotated[Actor, _with_role("editor")]

__all__ = [
    "CalendarsDep",
    "CurrentAgent",
    "CurrentEditor",
    "CurrentUser",
    "DbSession",
    "DbWriteSession",
    "NowDep",
    "SearchServiceDep",
    "SettingsDep",
    "get_now",
    "get_settings",
]
