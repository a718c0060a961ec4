"""Knowledge-base search, shared by the chat widget's back end and hotline agents."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from chatbot.api.deps import MetricsDep, SearchServiceDep, SettingsDep
from chatbot.api.mappers import search_public
from chatbot.api.schemas.search import SearchCreate, SearchPublic
from chatbot.api.urls import article_url

router = APIRouter(prefix="/api/v1", tags=["search"])


@router.post(
    "/search",
    response_model=SearchPublic,
    responses={422: {"description": "Invalid query, top_k or lang"},
               503: {"description": "No index built yet, or the model is loading"}},
)
async def search(body: SearchCreate, request: Request, service: SearchServiceDep,
                 settings: SettingsDep, metrics: MetricsDep) -> SearchPublic:
    with metrics.search_seconds.time():
        # Embedding is CPU-bound: keep the event loop free for other requests.
        result = await run_in_threadpool(service.search, body.query, top_k=body.top_k,
                                         lang=body.lang)
    return search_public(result, lambda article_id, lang: article_url(
        request, settings, article_id, lang))
