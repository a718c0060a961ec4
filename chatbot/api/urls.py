"""Absolute links to the service's own pages, for clients on other origins (the widget)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request

from chatbot.config import Settings


def article_url(request: Request, settings: Settings, article_id: str, lang: str) -> str:
    base = settings.public_base_url or str(request.base_url)
    return f"{base.rstrip('/')}/articles/{quote(article_id)}?lang={quote(lang)}"
