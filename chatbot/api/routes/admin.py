"""Editors' endpoints: index versions, re-index jobs, hot reload, translation status,
content gaps.

Every route needs an editor's bearer token: none or an invalid one is 401, an
agent's is 403.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from starlette.concurrency import run_in_threadpool

from chatbot.api.deps import (
    CurrentEditor,
    DbSession,
    NowDep,
    OptionalSearchDep,
    ReindexManagerDep,
    SearchServiceDep,
    SettingsDep,
)
from chatbot.api.schemas.admin import (
    ContentGapPublic,
    ContentGapsPublic,
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
from chatbot.editorial.content_gaps import DEFAULT_LIMIT, content_gap_report
from chatbot.editorial.csv_export import gaps_csv
from chatbot.index.jobs import ReindexJob, ReindexManager
from chatbot.index.store import IndexStore, describe_versions
from chatbot.retrieval.service import SearchService

router = APIRouter(
    prefix="/api/v1/admin", tags=["editors"],
    responses={401: {"description": "No or invalid token"},
               403: {"description": "The token is not an editor's"}},
)


def _job(job: ReindexJob | None) -> ReindexJobPublic | None:
    return None if job is None else ReindexJobPublic.model_validate(job.as_dict())


@router.post("/reindex", status_code=status.HTTP_202_ACCEPTED, response_model=ReindexJobPublic,
             summary="Start a background re-index of the corpus",
             responses={409: {"description": "A re-index is already running"},
                        503: {"description": "Search (model and index) is not loaded"}})
def post_reindex(editor: CurrentEditor, service: SearchServiceDep, manager: ReindexManagerDep,
                 body: ReindexCreate | None = None) -> ReindexJobPublic:
    job = manager.start(service, full=bool(body and body.full), force=bool(body and body.force),
                        requested_by=editor.name)
    return ReindexJobPublic.model_validate(job.as_dict())


def _index_status(service: SearchService | None, manager: ReindexManager,
                  store: IndexStore) -> IndexStatusPublic:
    loaded = service.index if service is not None else None
    versions = describe_versions(store)
    current = next((v for v in versions if v.current), None)
    return IndexStatusPublic(
        current_version=current.version if current else None,
        serving_version=loaded.version if loaded is not None else None,
        current=VersionPublic.model_validate(current.as_dict()) if current else None,
        versions=[VersionPublic.model_validate(v.as_dict()) for v in versions],
        job=_job(manager.last_job),
        file_errors=[FileErrorPublic(path=e.path, reason=e.reason)
                     for e in (current.manifest.errors if current and current.manifest else [])],
    )


@router.get("/index", response_model=IndexStatusPublic,
            summary="Index versions, the re-index job and the current build's file errors")
async def get_index(_editor: CurrentEditor, settings: SettingsDep, search: OptionalSearchDep,
                    manager: ReindexManagerDep) -> IndexStatusPublic:
    return await run_in_threadpool(_index_status, search, manager,
                                   IndexStore(settings.index_dir))


@router.post("/reload", response_model=ReloadPublic,
             summary="Serve the current index version now instead of at the next poll",
             responses={503: {"description": "Search is not loaded, or the version is "
                                             "unusable (the previous one keeps serving)"}})
async def post_reload(_editor: CurrentEditor, service: SearchServiceDep) -> ReloadPublic:
    reloaded = await run_in_threadpool(service.reload)
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
    return await run_in_threadpool(_translations, settings.corpus_dir)


@router.get(
    "/content-gaps", response_model=ContentGapsPublic,
    summary="Content gaps: escalated or down-rated questions, clustered; JSON, or CSV "
            "with format=csv",
    description="Citizens' questions (personal data masked) that the chat escalated, could "
                "not answer in their language, or that were rated unhelpful, grouped by "
                "language and department and clustered by embedding similarity, most "
                "asked first. `format=csv` returns the same clusters as a UTF-8 CSV "
                "attachment for spreadsheets.",
    responses={200: {"content": {"text/csv": {}}}},
)
def get_content_gaps(
    _editor: CurrentEditor, session: DbSession, now: NowDep, search: OptionalSearchDep,
    days: Annotated[int | None, Query(ge=1, le=3650, description="only the last N days; "
                                      "default: all stored conversations")] = None,
    lang: Annotated[str | None, Query(pattern=r"^[a-z]{2,8}$",
                                      description="only this language code")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="most clusters returned")]
    = DEFAULT_LIMIT,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> ContentGapsPublic | Response:
    # A sync route (thread pool): embedding the questions is CPU-bound. Without a
    # loaded model the clusters are identical questions only (`similarity: exact`).
    report = content_gap_report(session, now=now, days=days, language=lang, search=search,
                                limit=limit)
    if output == "csv":
        return Response(gaps_csv(report.gaps), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="content-gaps-'
                                 f'{now:%Y-%m-%d}.csv"'})
    return ContentGapsPublic(
        since=report.since, language=report.language, questions=report.questions,
        clusters=report.clusters, similarity=report.similarity, threshold=report.threshold,
        gaps=[ContentGapPublic.model_validate(g.as_dict()) for g in report.gaps])
