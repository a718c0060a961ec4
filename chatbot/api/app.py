"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from chatbot import __version__
from chatbot.api.backoffice import install_backoffice, start_backoffice, stop_backoffice
from chatbot.api.deadlines import DeadlineMiddleware
from chatbot.api.last_resort import LastResortMiddleware
from chatbot.api.limits import LimitsMiddleware
from chatbot.api.metrics import Metrics, ServedIndex
from chatbot.api.observability import ObservabilityMiddleware
from chatbot.api.openapi_problems import install_problem_documentation
from chatbot.api.problems import install_problem_handlers
from chatbot.api.routes import admin, articles, editor, health, search
from chatbot.api.routes import case_status as case_status_routes
from chatbot.api.routes import chat as chat_routes
from chatbot.api.routes import hotline as hotline_routes
from chatbot.api.routes import widget as widget_routes
from chatbot.api.security_headers import SecurityHeadersMiddleware
from chatbot.api.widget_bundle import build_widget_bundle
from chatbot.casestatus import CsvCaseStatusConnector
from chatbot.config import Settings, get_settings
from chatbot.dialogue.compose import Composer
from chatbot.dialogue.hotline import Hotline, parse_hours
from chatbot.errors import ChatbotError
from chatbot.escalation.clock import Clock
from chatbot.escalation.corpus_check import corpus_calendar_mismatches
from chatbot.index.distribution import ReplicaSync, distributor_for, replica_id
from chatbot.retrieval.service import SearchService

log = logging.getLogger(__name__)


class ChatbotApp(FastAPI):
    """FastAPI with our outermost middlewares outside Starlette's ServerErrorMiddleware,
    which FastAPI always puts outside everything added with `add_middleware`: so that
    the 500 it sends for an exception escaping every handler has a request id, the
    security headers and an access-log line like every other answer."""

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = LastResortMiddleware(super().build_middleware_stack())
        app = SecurityHeadersMiddleware(app)
        return ObservabilityMiddleware(app, metrics=self.state.metrics)


def create_app(settings: Settings | None = None, *, search_service: SearchService | None = None,
               load_search: bool | None = None, clock: Clock | None = None) -> FastAPI:
    """`search_service` lets tests share one loaded model across apps; `load_search=False`
    (default: `settings.load_search`) skips loading the model when none is given; `clock`
    replaces the real time for the back office (tests)."""
    settings = settings or get_settings()
    if load_search is None:
        load_search = settings.load_search

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await start_backoffice(app, settings)
        app.state.search = search_service
        app.state.startup_problem = None
        if app.state.search is None and not load_search:
            app.state.startup_problem = "search disabled (CHATBOT_LOAD_SEARCH=false)"
        elif app.state.search is None:
            try:
                app.state.search = await run_in_threadpool(SearchService.from_settings, settings)
            except ChatbotError as exc:
                # Keep serving /healthz and /readyz so operators see why it is not ready.
                app.state.startup_problem = str(exc)
                log.error("search unavailable: %s", exc)
        _warn_about_corpus_mismatches(app)
        app.state.index_distributor = distributor_for(settings, app.state.db)
        app.state.replica_sync = (
            ReplicaSync(app.state.index_distributor, app.state.search.store,
                        model_id=app.state.search.embedder.model_id,
                        replica=replica_id(settings), keep_versions=settings.keep_index_versions)
            if app.state.search is not None and app.state.index_distributor.shared else None)
        poller = asyncio.create_task(_poll_index(app, settings.index_poll_seconds))
        try:
            yield
        finally:
            poller.cancel()
            stop_backoffice(app)

    app = ChatbotApp(
        title="Citizen service chatbot",
        version=__version__,
        description="Multilingual knowledge-base search and chat for the city's service hotline.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.metrics.serve_index_from(lambda: _served_index(app))
    install_problem_handlers(app)
    install_problem_documentation(app)
    app.include_router(health.router)
    app.include_router(search.router)
    app.include_router(articles.router)
    install_backoffice(app, settings, clock=clock)
    # Chat: templates are checked here, so missing prompts stop `chatbot serve` at once.
    app.state.composer = Composer(settings.prompts_dir)
    app.state.hotline = Hotline(hours=parse_hours(settings.hotline_hours),
                                phone=settings.hotline_phone,
                                subdivision=settings.hotline_holiday_subdivision)
    app.include_router(chat_routes.router)
    # Case status: a malformed export stops start-up here; a missing one only logs.
    app.state.case_status = (CsvCaseStatusConnector(settings.case_status_csv)
                             if settings.case_status_csv is not None else None)
    app.include_router(case_status_routes.router)
    app.include_router(hotline_routes.router)
    # Editors' admin API and page (re-index, versions, translation status).
    app.include_router(admin.router)
    app.include_router(editor.router)
    # Citizens' widget: bundled once here, so broken sources stop `chatbot serve` at once.
    app.state.widget = build_widget_bundle(settings.widget_dir,
                                           privacy_url=settings.privacy_url)
    app.include_router(widget_routes.router)
    # Inside CORS, so that browsers can read the 429/413/503 answers too.
    app.add_middleware(LimitsMiddleware, settings=settings)
    # Outside the limits: a request past its deadline keeps its place in the model
    # queue until its work really ends.
    app.add_middleware(DeadlineMiddleware, timeout=settings.request_timeout_seconds,
                       retry_after=settings.overload_retry_after_seconds)
    if settings.cors_origins:
        # Only the city's own pages may call the API from a browser. No credentials and
        # no Authorization header: staff endpoints stay unreachable cross-origin.
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Content-Type", "Idempotency-Key",
                                          "X-Access-Token"],
                           expose_headers=["Location", "Retry-After", "X-Request-ID"], max_age=600)
    # Security headers (outside CORS and the limits, so their 413/429/preflight answers
    # get them too) and, outermost, request ids, access log and metrics: both outside
    # the server's error middleware, see ChatbotApp.
    return app


def _served_index(app: FastAPI) -> ServedIndex | None:
    service: SearchService | None = getattr(app.state, "search", None)
    index = service.index if service is not None else None
    if index is None:
        return None
    return ServedIndex(version=index.version, model=index.manifest.model_id,
                       built_at=index.manifest.built_at)


def _warn_about_corpus_mismatches(app: FastAPI) -> None:
    """Articles whose department or appointment service the calendars file lacks: the
    chat then offers tickets without a department and no booking (logged once)."""
    service: SearchService | None = app.state.search
    index = service.index if service is not None else None
    if index is None:
        return
    for problem in corpus_calendar_mismatches(index.articles.values(), app.state.calendars):
        log.warning("corpus vs calendars: %s", problem)


async def _poll_index(app: FastAPI, interval: float) -> None:
    """Swap in a newly published index version without a restart; on PostgreSQL, first
    fetch the version the database designates and report the one served."""
    if interval <= 0:
        return
    while True:
        service: SearchService | None = app.state.search
        if service is not None:
            await run_in_threadpool(_poll_once, service, app.state.replica_sync)
        await asyncio.sleep(interval)


def _poll_once(service: SearchService, sync: ReplicaSync | None) -> None:
    # Each step on its own: a database that is down must not stop local reloads, and a
    # bug must not end the poller for the process's life.
    if sync is not None:
        try:
            sync.sync()
        except ChatbotError as exc:
            log.warning("index versions from the database: %s", exc)
        except Exception:
            log.exception("index versions from the database: unexpected error")
    try:
        service.reload()
    except ChatbotError as exc:
        log.error("index reload failed, still serving the previous version: %s", exc)
    except Exception:
        log.exception("index reload failed, still serving the previous version")
    if sync is not None:
        index = service.index
        try:
            sync.report(index.version if index is not None else None)
        except ChatbotError as exc:
            log.warning("index versions: cannot report this replica: %s", exc)
        except Exception:
            log.exception("index versions: cannot report this replica")
