"""Absolute links to the service's own resources, for clients on other origins (the
widget, e-mail, calendar files): one base for every link."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import Request

from chatbot.config import Settings


def public_base(request: Request, settings: Settings) -> str:
    """`CHATBOT_PUBLIC_BASE_URL`, else this request's origin, but only when its Host
    header names a trusted host (`CHATBOT_TRUSTED_HOSTS`) or the address the connection
    arrived on: a forged Host must not put another site into citation links, status URLs
    or calendar files. Otherwise the connection's own address is used."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    origin = str(request.base_url).rstrip("/")
    claimed = (request.url.hostname or "").lower()
    server = request.scope.get("server")
    if server is None or claimed in {h.lower() for h in settings.trusted_hosts} or (
            claimed == str(server[0]).lower()):
        return origin
    host, port = str(server[0]), server[1]
    if ":" in host:
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}.get(request.url.scheme)
    return f"{request.url.scheme}://{host}" + ("" if port in (None, default_port) else f":{port}")


def public_host(request: Request, settings: Settings) -> str:
    """The host name of `public_base` (calendar UIDs)."""
    return urlsplit(public_base(request, settings)).hostname or "citizen-chatbot.invalid"


def absolute_url(request: Request, settings: Settings, path: str) -> str:
    return f"{public_base(request, settings)}{path}"


def article_url(request: Request, settings: Settings, article_id: str, lang: str) -> str:
    return absolute_url(request, settings, f"/articles/{quote(article_id)}?lang={quote(lang)}")
