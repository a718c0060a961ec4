"""Editors' endpoints: index versions, re-index jobs, hot reload, translation status.

Every route needs an editor's bearer token: none or an invalid one is 401, an
agent's is 403.
"""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from chatbot.api.deps import CurrentEditor, SearchServiceDep, SettingsDep
from chatbot.api.schemas_admin import (
    FileErrorPublic,
    IndexStatusPublic,
    ReindexCreate,
    ReindexJobPublic,
    ReloadPublic,
    TranslationsPublic,
    TranslationStatusPublic,
    VersionPublic,
)
from chatbot.corpus import LANGUAGES, load_corpus
from chatbot.corpus.status import translation_status
from chatbot.errors import ChatbotError
from chatbot.index.jobs import ReindexBusyError, ReindexJob, ReindexManager
from chatbot.index.store import IndexStore, describe_versions

router = APIRouter(
    prefix="/api/v1/admin", tags=["editors"],
    responses={401: {"description": "No or invalid token"},
               403: {"description": "The token is not an editor's"}},
)


_manager_lock = threading.Lock()


def reindex_manager(request: Request) -> ReindexManager:
    """One manager per app, created on first use so the app factory needs no hook.
    Created under a lock: two managers would let two builds run at once."""
    with _manager_lock:
        manager: ReindexManager | None = getattr(request.app.state, "reindex", None)
        if manager is None:
            manager = ReindexManager(request.app.state.settings)
            request.app.state.reindex = manager
        return manager


def _job(job: ReindexJob | None) -> ReindexJobPublic | None:
    return None if job is None else ReindexJobPublic.model_validate(job.as_dict())


@router.post("/reindex", status_code=status.HTTP_202_ACCEPTED, response_model=ReindexJobPublic,
             summary="Start a background re-index of the corpus",
             responses={409: {"description": "A re-index is already running"},
                        503: {"description": "Search (model and index) is not loaded"}})
def post_reindex(request: Request, editor: CurrentEditor, service: SearchServiceDep,
                 body: ReindexCreate | None = None) -> ReindexJobPublic:
    try:
        job = reindex_manager(request).start(service, full=bool(body and body.full),
                                             requested_by=editor.name)
    except ReindexBusyError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail={"message": str(exc), "job_id": exc.job_id}) from exc
    return ReindexJobPublic.model_validate(job.as_dict())


def _index_status(request: Request, store: IndexStore) -> IndexStatusPublic:
    service = getattr(request.app.state, "search", None)
    loaded = service.index if service is not None else None
    versions = describe_versions(store)
    current = next((v for v in versions if v.current), None)
    return IndexStatusPublic(
        current_version=current.version if current else None,
        serving_version=loaded.version if loaded is not None else None,
        current=VersionPublic.model_validate(current.as_dict()) if current else None,
        versions=[VersionPublic.model_validate(v.as_dict()) for v in versions],
        job=_job(reindex_manager(request).last_job),
        file_errors=[FileErrorPublic(path=e.path, reason=e.reason)
                     for e in (current.manifest.errors if current and current.manifest else [])],
    )


@router.get("/index", response_model=IndexStatusPublic,
            summary="Index versions, the re-index job and the current build's file errors")
async def get_index(request: Request, _editor: CurrentEditor,
                    settings: SettingsDep) -> IndexStatusPublic:
    return await run_in_threadpool(_index_status, request, IndexStore(settings.index_dir))


@router.post("/reload", response_model=ReloadPublic,
             summary="Serve the current index version now instead of at the next poll",
             responses={503: {"description": "Search is not loaded, or the version is "
                                             "unusable (the previous one keeps serving)"}})
async def post_reload(_editor: CurrentEditor, service: SearchServiceDep) -> ReloadPublic:
    try:
        reloaded = await run_in_threadpool(service.reload)
    except ChatbotError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from exc
    index = service.index
    return ReloadPublic(reloaded=reloaded, serving_version=index.version if index else None)


def _translations(corpus_dir: Path) -> TranslationsPublic:
    loaded = load_corpus(corpus_dir)
    return TranslationsPublic(
        languages=list(LANGUAGES),
        articles=[TranslationStatusPublic.model_validate(s.as_dict())
                  for s in translation_status(loaded.articles)],
        file_errors=[FileErrorPublic(path=i.path, reason=i.reason) for i in loaded.issues],
    )


@router.get("/translations", response_model=TranslationsPublic,
            summary="Missing and stale language versions of every article",
            responses={503: {"description": "The corpus directory is unreadable"}})
async def get_translations(_editor: CurrentEditor, settings: SettingsDep) -> TranslationsPublic:
    try:
        return await run_in_threadpool(_translations, settings.corpus_dir)
    except ChatbotError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from exc
