"""The citizens' ticket status page: `/anliegen/{reference}` and the look-up form
`/anliegen`.

The page carries no ticket data and needs no token: its script reads the access code
from the URL's fragment (`#code=...`, which browsers never send to a server, so it
stays out of access logs, Referer headers and proxies), removes it from the address
bar, keeps it in the tab's sessionStorage and calls the ticket API with the
`X-Access-Token` header. The page's words come from `prompts/<lang>/status_page.yaml`;
its language is `?lang=`, else the browser's, else German, and the script switches to
the ticket's language once it knows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from chatbot.api.deps import SettingsDep, WidgetBundleDep
from chatbot.api.routes.console import OWN_SCRIPTS_ONLY_CSP
from chatbot.api.routes.tickets import ReferencePath
from chatbot.escalation.status_texts import load_status_texts
from chatbot.language import SUPPORTED_LANGUAGES

router = APIRouter(include_in_schema=False)
_API_DIR = Path(__file__).parent.parent
templates = Jinja2Templates(directory=str(_API_DIR / "templates"))
_ASSETS = {"status.js": "text/javascript"}

# The script keeps an access code in sessionStorage: only our own scripts may run, no
# referrer leaves the page, and nothing is cached.
STATUS_HEADERS = {
    "Content-Security-Policy": OWN_SCRIPTS_ONLY_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page_language(requested: str | None, accept_language: str | None) -> str:
    if requested in SUPPORTED_LANGUAGES:
        return requested
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in SUPPORTED_LANGUAGES:
            return code
    return "de"


def _page(request: Request, settings: SettingsDep, bundle: WidgetBundleDep,
          reference: str | None, lang: str | None, accept_language: str | None
          ) -> HTMLResponse:
    language = page_language(lang, accept_language)
    texts = load_status_texts(settings.prompts_dir)
    response = templates.TemplateResponse(request, "site/status.html", {
        "lang": language, "t": texts[language], "texts": texts[language],
        "reference": reference, "explicit_lang": lang in SUPPORTED_LANGUAGES,
        "widget_version": bundle.version, "privacy_url": settings.privacy_url,
        "hotline_phone": settings.hotline_phone})
    response.headers.update(STATUS_HEADERS)
    return response


LangQuery = Annotated[str | None, Query(max_length=8)]
AcceptLanguage = Annotated[str | None, Header(max_length=500)]


@router.get("/anliegen", response_class=HTMLResponse, name="status_lookup")
def status_lookup(request: Request, settings: SettingsDep, bundle: WidgetBundleDep,
                  lang: LangQuery = None, accept_language: AcceptLanguage = None
                  ) -> HTMLResponse:
    return _page(request, settings, bundle, None, lang, accept_language)


@router.get("/anliegen/{reference}", response_class=HTMLResponse, name="status_page")
def status_page(reference: ReferencePath, request: Request, settings: SettingsDep,
                bundle: WidgetBundleDep, lang: LangQuery = None,
                accept_language: AcceptLanguage = None) -> HTMLResponse:
    return _page(request, settings, bundle, reference, lang, accept_language)


@router.get("/anliegen-static/{name}", name="status_asset")
def status_asset(name: str) -> FileResponse:
    if name not in _ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no asset {name!r}")
    return FileResponse(_API_DIR / "static" / "site" / name, media_type=_ASSETS[name],
                        headers={"X-Content-Type-Options": "nosniff",
                                 "Cache-Control": "public, max-age=3600"})
