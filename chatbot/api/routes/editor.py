"""The editors' page: index versions, re-index, translation status.

Like the agents' console, the page carries no data and is served without a token;
its script calls `/api/v1/admin/...` with the editor's bearer token.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse

from chatbot.api.routes.console import SECURITY_HEADERS, templates
from chatbot.corpus import LANGUAGES

router = APIRouter(prefix="/editor", include_in_schema=False)
_STATIC = Path(__file__).parent.parent / "static" / "editor"
_ASSETS = {"editor.js": "text/javascript"}


@router.get("", response_class=HTMLResponse, name="editor_page")
def editor_page(request: Request) -> HTMLResponse:
    response = templates.TemplateResponse(request, "editor/index.html",
                                          {"page": "editor", "languages": LANGUAGES})
    response.headers.update(SECURITY_HEADERS)
    return response


@router.get("/static/{name}", name="editor_asset")
def editor_asset(name: str) -> FileResponse:
    if name not in _ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no editor asset {name!r}")
    return FileResponse(_STATIC / name, media_type=_ASSETS[name],
                        headers={"X-Content-Type-Options": "nosniff"})
