"""The agents' console: plain HTML pages whose script calls the agent API.

The pages carry no data, so they are served without a token; everything they show
comes from `/api/v1/agent/...` and `/api/v1/search` with the agent's bearer token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from chatbot.api.deps import CalendarsDep, SettingsDep
from chatbot.language import SUPPORTED_LANGUAGES
from chatbot.storage.models import TICKET_STATUSES

router = APIRouter(prefix="/console", include_in_schema=False)
_API_DIR = Path(__file__).parent.parent
templates = Jinja2Templates(directory=str(_API_DIR / "templates"))
_ASSETS = {"console.js": "text/javascript", "staff.js": "text/javascript",
           "console.css": "text/css"}
_OPEN_STATUSES = ("open", "in_progress", "waiting_for_citizen")

# The token sits in sessionStorage: no script but our own may run on these pages.
OWN_SCRIPTS_ONLY_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                        "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": OWN_SCRIPTS_ONLY_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page(request: Request, template: str, context: dict[str, object]) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, {
        "statuses": TICKET_STATUSES, "open_statuses": _OPEN_STATUSES, "reference": None,
        **context})
    response.headers.update(SECURITY_HEADERS)
    return response


@router.get("", response_class=HTMLResponse, name="console_queue")
def console_queue(request: Request, calendars: CalendarsDep,
                  settings: SettingsDep) -> HTMLResponse:
    return _page(request, "console/queue.html", {
        "page": "queue", "departments": calendars.departments,
        "languages": SUPPORTED_LANGUAGES, "email_configured": settings.smtp_configured,
        "open311_configured": settings.open311_url is not None,
        "defect_department": settings.open311_fallback_department})


@router.get("/tickets/{reference}", response_class=HTMLResponse, name="console_ticket")
def console_ticket(request: Request, settings: SettingsDep, reference: Annotated[
        str, PathParam(max_length=32, pattern=r"^[A-Z0-9-]+$")]) -> HTMLResponse:
    return _page(request, "console/ticket.html", {
        "page": "ticket", "reference": reference,
        "email_configured": settings.smtp_configured})


@router.get("/static/{name}", name="console_asset")
def console_asset(name: str) -> FileResponse:
    if name not in _ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no console asset {name!r}")
    return FileResponse(_API_DIR / "static" / "console" / name, media_type=_ASSETS[name],
                        headers={"X-Content-Type-Options": "nosniff"})
