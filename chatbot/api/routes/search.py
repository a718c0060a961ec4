"""Knowledge-base search, shared by the chat widget's back end and hotline agents."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from chatbot.api.deps import SearchServiceDep, SettingsDep
from chatbot.api.schemas import LanguagePublic, SearchCreate, SearchHitPublic, SearchPublic
from chatbot.api.urls import article_url

router = APIRouter(prefix="/api/v1", tags=["search"])


@router.post(
    "/search",
    response_model=SearchPublic,
    responses={422: {"description": "Invalid query, top_k or lang"},
               503: {"description": "No index built yet, or the model is loading"}},
)
async def search(body: SearchCreate, request: Request, service: SearchServiceDep,
                 settings: SettingsDep) -> SearchPublic:
    with request.app.state.metrics.search_seconds.time():
        # Embedding is CPU-bound: keep the event loop free for other requests.
        result = await run_in_threadpool(service.search, body.query, top_k=body.top_k,
                                         lang=body.lang)
    return SearchPublic(
        language=LanguagePublic(code=result.language.code,
                                confidence=round(result.language.confidence, 4),
                                supported=result.language.supported),
        hits=[
            SearchHitPublic(
                article_id=hit.article_id, lang=hit.lang, title=hit.title,
                department=hit.department, score=hit.score, snippet=hit.snippet,
                url=hit.url or article_url(request, settings, hit.article_id, hit.lang),
                heading=hit.heading, appointment_service=hit.appointment_service,
            )
            for hit in result.hits
        ],
        index_version=result.index_version,
    )
