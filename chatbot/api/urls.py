"""Absolute links to the service's own resources, for clients on other origins (the
widget, e-mail, calendar files): one base for every link."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request

from chatbot.config import Settings


def absolute_url(request: Request, settings: Settings, path: str) -> str:
    base = settings.public_base_url or str(request.base_url)
    return f"{base.rstrip('/')}{path}"


def article_url(request: Request, settings: Settings, article_id: str, lang: str) -> str:
    return absolute_url(request, settings, f"/articles/{quote(article_id)}?lang={quote(lang)}")
