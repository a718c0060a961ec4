"""Request dependencies as `Annotated` aliases, so routes declare what they need."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from chatbot.api.deadlines import DEADLINE_SCOPE_KEY
from chatbot.api.metrics import Metrics
from chatbot.api.widget_bundle import WidgetBundle
from chatbot.casestatus import CaseStatusConnector
from chatbot.config import Settings, get_settings
from chatbot.deadline import DEADLINE_INFO_KEY
from chatbot.defects.catalogue import Catalogue
from chatbot.defects.forwarding import Forwarder
from chatbot.dialogue.compose import Composer
from chatbot.dialogue.hotline import Hotline
from chatbot.errors import NotFoundError
from chatbot.escalation.calendars import Calendars
from chatbot.escalation.clock import Clock
from chatbot.escalation.users import Actor, authenticate, require_role
from chatbot.index.jobs import ReindexManager
from chatbot.retrieval.service import SearchService
from chatbot.storage import Database


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# Coroutines, like the health probes that use them: a sync dependency would wait for a
# thread of the pool that chat, search and the database share.
async def _optional_search(request: Request) -> SearchService | None:
    """The loaded search, or None while the model loads or when it failed to."""
    service: SearchService | None = getattr(request.app.state, "search", None)
    return service


async def _startup_problem(request: Request) -> str | None:
    """Why search is not loaded (set by the app's start-up), for operators."""
    problem: str | None = getattr(request.app.state, "startup_problem", None)
    return problem


def _search_service(service: Annotated[SearchService | None, Depends(_optional_search)],
                    problem: Annotated[str | None, Depends(_startup_problem)]) -> SearchService:
    if service is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail=problem or "search is not available on this server")
    return service


def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


SettingsDep = Annotated[Settings, Depends(_settings)]
SearchServiceDep = Annotated[SearchService, Depends(_search_service)]
OptionalSearchDep = Annotated[SearchService | None, Depends(_optional_search)]
StartupProblemDep = Annotated[str | None, Depends(_startup_problem)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]


# --- chat and widget: templates, hotline hours, the widget bundle ----------------------


def _composer(request: Request) -> Composer:
    composer: Composer = request.app.state.composer
    return composer


def _hotline(request: Request) -> Hotline:
    hotline: Hotline = request.app.state.hotline
    return hotline


def _widget(request: Request) -> WidgetBundle:
    bundle: WidgetBundle = request.app.state.widget
    return bundle


def _case_status(request: Request) -> CaseStatusConnector:
    connector: CaseStatusConnector | None = request.app.state.case_status
    if connector is None:
        raise NotFoundError("case-status look-ups are not configured on this server")
    return connector


def _case_status_enabled(request: Request) -> bool:
    return request.app.state.case_status is not None


def _defect_catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = request.app.state.defect_catalogue
    return catalogue


def _defect_forwarder(request: Request) -> Forwarder | None:
    """None: no Open311 endpoint, defect reports become tickets."""
    forwarder: Forwarder | None = request.app.state.defect_forwarder
    return forwarder


DefectCatalogueDep = Annotated[Catalogue, Depends(_defect_catalogue)]
DefectForwarderDep = Annotated[Forwarder | None, Depends(_defect_forwarder)]
ComposerDep = Annotated[Composer, Depends(_composer)]
CaseStatusDep = Annotated[CaseStatusConnector, Depends(_case_status)]
CaseStatusEnabledDep = Annotated[bool, Depends(_case_status_enabled)]
HotlineDep = Annotated[Hotline, Depends(_hotline)]
WidgetBundleDep = Annotated[WidgetBundle, Depends(_widget)]


# --- editors: the re-index jobs of this process -----------------------------------------

_manager_lock = threading.Lock()


def _reindex_manager(request: Request) -> ReindexManager:
    """One manager per app, created on first use so the app factory needs no hook.
    Created under a lock: two managers would let two builds run at once."""
    with _manager_lock:
        manager: ReindexManager | None = getattr(request.app.state, "reindex", None)
        if manager is None:
            manager = ReindexManager(
                request.app.state.settings,
                distributor=getattr(request.app.state, "index_distributor", None))
            request.app.state.reindex = manager
        return manager


ReindexManagerDep = Annotated[ReindexManager, Depends(_reindex_manager)]


# --- escalation back office: database, clock, calendars, agents ----------------------


def _database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


async def _database_on_loop(request: Request) -> Database:
    """The same, for coroutines (the health probes) that must not wait for a thread."""
    return _database(request)


def _read_session(request: Request) -> Iterator[Session]:
    with _database(request).session() as session:
        yield session


def _write_session(request: Request) -> Iterator[Session]:
    with _database(request).write_session() as session:
        # The request's deadline (chatbot/api/deadlines.py) decides at COMMIT whether
        # a write that comes too late is stored.
        deadline = request.scope.get(DEADLINE_SCOPE_KEY)
        if deadline is not None:
            session.info[DEADLINE_INFO_KEY] = deadline
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


def header_token(request: Request, token: str | None, *, what: str) -> str:
    """A citizen's token from the X-Access-Token header; 401 without one, saying why
    when the client put it in the URL instead (URLs end up in logs)."""
    if token:
        return token
    hint = (" (a token in the URL is not accepted: URLs end up in logs)"
            if "token" in request.query_params else "")
    raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                        detail=f"the {what} is required in the X-Access-Token header{hint}")


DbSession = Annotated[Session, Depends(_read_session)]
DbWriteSession = Annotated[Session, Depends(_write_session)]
DatabaseDep = Annotated[Database, Depends(_database_on_loop)]
NowDep = Annotated[datetime, Depends(get_now)]
CalendarsDep = Annotated[Calendars, Depends(_calendars)]
CurrentUser = Annotated[Actor, Depends(_actor)]
CurrentAgent = Annotated[Actor, _with_role("agent")]
CurrentEditor = Annotated[Actor, _with_role("editor")]

__all__ = [
    "CalendarsDep",
    "CaseStatusDep",
    "CaseStatusEnabledDep",
    "ComposerDep",
    "CurrentAgent",
    "CurrentEditor",
    "CurrentUser",
    "DatabaseDep",
    "DbSession",
    "DbWriteSession",
    "DefectCatalogueDep",
    "DefectForwarderDep",
    "HotlineDep",
    "MetricsDep",
    "NowDep",
    "OptionalSearchDep",
    "ReindexManagerDep",
    "SearchServiceDep",
    "SettingsDep",
    "StartupProblemDep",
    "WidgetBundleDep",
    "get_now",
    "get_settings",
]
