"""The citation target: an article version rendered as a page, from the served index."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt

from chatbot.api.deps import SearchServiceDep
from chatbot.errors import NotFoundError

router = APIRouter(tags=["articles"])
templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
# html=False: any HTML inside an article is shown as text, never interpreted.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


@router.get("/articles/{article_id}", response_class=HTMLResponse, summary="Article page",
            responses={404: {"description": "No article with this id"}})
def article_page(request: Request, article_id: str, service: SearchServiceDep,
                 lang: str = Query(default="de", max_length=8)) -> HTMLResponse:
    index = service.index
    versions = index.article_versions(article_id) if index else {}
    if not versions:
        raise NotFoundError(f"no article {article_id!r}")
    article = versions.get(lang) or versions.get("de") or next(iter(versions.values()))
    return templates.TemplateResponse(
        request,
        "article.html",
        {"article": article, "body_html": _markdown.render(article.body),
         "languages": sorted(versions)},
    )
