"""Security headers on every response, pages and API alike.

Routes that need something else set their own headers (the staff pages, the demo page,
`/widget.js`); this middleware only fills in what a response lacks, except that
responses carrying or answering with a token are never stored by any cache.

- `Content-Security-Policy`: HTML pages may run only this origin's scripts
  (`OWN_SCRIPTS_ONLY_CSP`); the article page's one inline `<style>` is allowed by its
  hash; the interactive API docs load Swagger UI / ReDoc from their CDN. Everything
  else (JSON, CSV, .ics, problem documents) may load nothing at all.
- `X-Frame-Options: DENY` and `frame-ancestors 'none'`: no page is meant to be framed
  (the widget is a script on the city's page, not a frame).
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (pages that want
  a referrer set their own).
- `Cache-Control: no-store` on ticket and appointment creation and look-ups, the agents'
  and editors' API, and any request that sends a token.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatbot.api.routes.console import OWN_SCRIPTS_ONLY_CSP

NOTHING_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI and ReDoc as FastAPI serves them: scripts and styles from jsDelivr, one
# inline start-up script, ReDoc's web worker and fonts.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net "
            "https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; "
            "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
            "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
BASE_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
NO_STORE = "no-store"
TOKEN_HEADERS = frozenset({b"authorization", b"x-access-token"})
# Responses that carry a token (creation) or answer a look-up made with one.
_TOKEN_BEARING = re.compile(r"^/api/v1/(?:tickets(?:/.*)?|appointments(?:/(?!services$|slots$)"
                            r"[^/]+(?:/ics)?)?|agent(?:/.*)?|admin(?:/.*)?)$")


def _inline_style_hash(template: Path) -> str:
    """The CSP source allowing the template's one inline `<style>` block, as rendered."""
    match = re.search(r"<style>(.*?)</style>", template.read_text(encoding="utf-8"), re.DOTALL)
    if match is None:
        return ""
    digest = hashlib.sha256(match.group(1).encode("utf-8")).digest()
    return f" 'sha256-{base64.b64encode(digest).decode()}'"


ARTICLE_CSP = OWN_SCRIPTS_ONLY_CSP.replace(
    "style-src 'self'",
    "style-src 'self'" + _inline_style_hash(Path(__file__).parent / "templates" / "article.html"))


def content_security_policy(path: str, content_type: str) -> str:
    if not content_type.startswith("text/html"):
        return NOTHING_CSP
    if path in DOCS_PATHS:
        return DOCS_CSP
    if path.startswith("/articles/"):
        return ARTICLE_CSP
    return OWN_SCRIPTS_ONLY_CSP


def bears_token(scope: Scope) -> bool:
    if any(name in TOKEN_HEADERS for name, _ in scope.get("headers", ())):
        return True
    if b"token=" in scope.get("query_string", b""):
        return True
    return _TOKEN_BEARING.match(scope["path"]) is not None


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = bears_token(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_security_headers(
                    list(message.get("headers", ())), scope["path"], no_store=no_store)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_security_headers(headers: list[tuple[bytes, bytes]], path: str, *,
                           no_store: bool) -> list[tuple[bytes, bytes]]:
    present = {name.lower().decode("latin-1"): value for name, value in headers}
    added: dict[str, str] = {}
    if "content-security-policy" not in present:
        content_type = present.get("content-type", b"").decode("latin-1").lower()
        added["content-security-policy"] = content_security_policy(path, content_type)
    for name, value in BASE_HEADERS.items():
        if name not in present:
            added[name] = value
    if no_store:
        headers = [(name, value) for name, value in headers
                   if name.lower() != b"cache-control"]
        added["cache-control"] = NO_STORE
    return headers + [(name.encode("latin-1"), value.encode("latin-1"))
                      for name, value in added.items()]


__all__ = ["SecurityHeadersMiddleware"]
