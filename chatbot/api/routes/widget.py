"""The citizens' widget script, the demo city page that embeds it, the privacy notice."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from chatbot.api.deps import SettingsDep, WidgetBundleDep
from chatbot.api.routes.console import OWN_SCRIPTS_ONLY_CSP
from chatbot.api.widget_bundle import WidgetBundle
from chatbot.config import Settings

router = APIRouter(include_in_schema=False)
_API_DIR = Path(__file__).parent.parent
templates = Jinja2Templates(directory=str(_API_DIR / "templates"))
_SITE_ASSETS = {"site.css": "text/css"}

# A versioned URL never changes content, so browsers and CDNs may keep it for a year;
# the bare /widget.js that cities paste into their pages is revalidated hourly, so a
# new release reaches every page within the hour, and an unchanged one costs a 304.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=3600, stale-while-revalidate=86400"

# The demo pages run only our own script; the widget talks to this origin. Unlike the
# staff pages they hold no token, so they may be cached and send a referrer.
SITE_HEADERS = {
    "Content-Security-Policy": OWN_SCRIPTS_ONLY_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@router.get("/widget.js", name="widget_script")
def widget_script(bundle: WidgetBundleDep,
                  v: Annotated[str | None, Query(max_length=64)] = None,
                  if_none_match: Annotated[str | None, Header()] = None) -> Response:
    headers = {
        "Cache-Control": IMMUTABLE if v == bundle.version else REVALIDATE,
        "ETag": bundle.etag,
        "X-Widget-Version": bundle.version,
        "X-Content-Type-Options": "nosniff",
        # City pages on other origins load it with a plain <script> element.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if if_none_match is not None and bundle.etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(bundle.script, media_type="text/javascript; charset=utf-8",
                    headers=headers)


def _site_page(request: Request, template: str, settings: Settings,
               bundle: WidgetBundle) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, {
        "widget_version": bundle.version, "privacy_url": settings.privacy_url,
        "hotline_phone": settings.hotline_phone, "retention_days": settings.retention_days})
    response.headers.update(site_headers(settings))
    return response


def site_headers(settings: Settings) -> dict[str, str]:
    """SITE_HEADERS, with the map tiles' origin allowed as images when a map is set."""
    origin = settings.map_tile_origin
    if origin is None:
        return SITE_HEADERS
    csp = OWN_SCRIPTS_ONLY_CSP.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")
    return {**SITE_HEADERS, "Content-Security-Policy": csp}


@router.get("/", response_class=HTMLResponse, name="demo_page")
def demo_page(request: Request, settings: SettingsDep, bundle: WidgetBundleDep) -> HTMLResponse:
    return _site_page(request, "site/demo.html", settings, bundle)


@router.get("/datenschutz", response_class=HTMLResponse, name="privacy_page")
def privacy_page(request: Request, settings: SettingsDep,
                 bundle: WidgetBundleDep) -> HTMLResponse:
    return _site_page(request, "site/privacy.html", settings, bundle)


@router.get("/site/{name}", name="site_asset")
def site_asset(name: str) -> FileResponse:
    if name not in _SITE_ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no site asset {name!r}")
    return FileResponse(_API_DIR / "static" / "site" / name, media_type=_SITE_ASSETS[name],
                        headers={"X-Content-Type-Options": "nosniff",
                                 "Cache-Control": "public, max-age=3600"})
