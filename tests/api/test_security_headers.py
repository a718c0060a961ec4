"""Security headers on every page and API answer; no cache keeps a token-bearing one."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from chatbot.api import create_app
from chatbot.config import Settings
from chatbot.corpus.loader import load_corpus
from tests.api.test_appointments_api import BODY as BOOKING
from tests.api.test_tickets_api import BODY as TICKET

CITY = "https://www.stadt.example"


def _assert_secured(response: Response) -> None:
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, (response.request.url, csp)
    assert headers.get("x-frame-options") == "DENY", response.request.url
    assert headers.get("x-content-type-options") == "nosniff", response.request.url
    assert headers.get("referrer-policy"), response.request.url


def _assert_not_stored(response: Response) -> None:
    assert response.headers.get("cache-control") == "no-store", (
        response.request.url, response.headers.get("cache-control"))


@pytest.fixture
def client(backoffice_settings: Settings, clock: Any) -> Iterator[TestClient]:
    settings = backoffice_settings.model_copy(update={
        "cors_origins": [CITY], "tickets_per_contact_per_hour": 0,
        "max_open_appointments_per_contact": 0})
    with TestClient(create_app(settings, clock=clock)) as client:
        yield client


def test_every_page_and_answer_carries_the_headers(client: TestClient) -> None:
    answers = [client.get(path) for path in (
        "/", "/datenschutz", "/widget.js", "/console", "/editor", "/docs", "/redoc",
        "/openapi.json", "/healthz", "/readyz", "/api/v1/hotline", "/api/v1/agent/me",
        "/articles/reisepass", "/api/v1/appointments/services", "/no-such-page")]
    answers.append(client.post("/api/v1/search", json={"query": "Pass"}))     # 503
    answers.append(client.post("/api/v1/tickets", content=b"\xff{",            # 400
                               headers={"Content-Type": "application/json"}))
    answers.append(client.post("/api/v1/tickets", json={}))                    # 422
    answers.append(client.post("/api/v1/tickets", content=b"x" * 10_000_000))  # 413
    for response in answers:
        _assert_secured(response)
    assert {r.status_code for r in answers} >= {200, 400, 401, 404, 413, 422, 503}


def test_pages_run_only_own_scripts_and_data_loads_nothing(client: TestClient) -> None:
    for page in ("/", "/console", "/editor", "/datenschutz"):
        csp = client.get(page).headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
    for data in ("/api/v1/hotline", "/openapi.json", "/api/v1/agent/me"):
        assert client.get(data).headers["content-security-policy"].startswith(
            "default-src 'none'")
    # The API docs need their CDN, and nothing else may frame them either.
    docs = client.get("/docs").headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in docs
    assert "frame-ancestors 'none'" in docs


def test_the_widget_stays_embeddable_and_cors_unchanged(client: TestClient) -> None:
    script = client.get("/widget.js")
    assert script.headers["cross-origin-resource-policy"] == "cross-origin"
    assert script.headers["cache-control"].startswith("public")
    answer = client.get("/api/v1/hotline", headers={"Origin": CITY})
    assert answer.headers["access-control-allow-origin"] == CITY
    _assert_secured(answer)
    preflight = client.options("/api/v1/chat", headers={
        "Origin": CITY, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    _assert_secured(preflight)


def test_token_bearing_answers_are_never_stored(client: TestClient,
                                                make_user: Callable[..., str]) -> None:
    created = client.post("/api/v1/tickets", json=TICKET)
    assert created.status_code == 201
    _assert_not_stored(created)
    token = {"X-Access-Token": created.json()["access_token"]}
    reference = created.json()["reference"]
    _assert_not_stored(client.get(f"/api/v1/tickets/{reference}", headers=token))
    _assert_not_stored(client.get(f"/api/v1/tickets/{reference}"))  # 401 as well

    booked = client.post("/api/v1/appointments", json=BOOKING)
    assert booked.status_code == 201
    _assert_not_stored(booked)
    path = f"/api/v1/appointments/{booked.json()['reference']}"
    token = {"X-Access-Token": booked.json()["cancel_token"]}
    _assert_not_stored(client.get(path, headers=token))
    _assert_not_stored(client.get(f"{path}/ics", headers=token))

    agent = {"Authorization": f"Bearer {make_user()}"}
    _assert_not_stored(client.get("/api/v1/agent/tickets", headers=agent))
    _assert_not_stored(client.get(f"/api/v1/agent/tickets/{reference}", headers=agent))
    editor = {"Authorization": f"Bearer {make_user('e.weber', 'editor')}"}
    _assert_not_stored(client.get("/api/v1/admin/index", headers=editor))
    # Public lists without a token may be cached; the widget script keeps its caching.
    assert client.get("/api/v1/appointments/services").headers.get("cache-control") is None
    assert "no-store" not in client.get("/widget.js").headers["cache-control"]


class _OneArticleSearch:
    """Just enough of the search service for the article page."""

    ready = True

    def __init__(self, article: Any) -> None:
        self.index = SimpleNamespace(
            articles={article.id: article},
            article_versions=lambda article_id: ({"de": article}
                                                 if article_id == article.id else {}))


def test_the_article_page_allows_exactly_its_own_inline_style(
        tmp_path: Path, write_article: Callable[..., Path]) -> None:
    write_article(body="## Antrag\n\n<script>alert(1)</script> Persönlich beantragen.")
    article = load_corpus(tmp_path / "corpus").articles[0]
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'a.sqlite3'}",
                        index_poll_seconds=0, index_dir=tmp_path / "indexes")
    app = create_app(settings, search_service=_OneArticleSearch(article))  # type: ignore[arg-type]
    with TestClient(app) as client:
        page = client.get("/articles/reisepass")
    assert page.status_code == 200
    _assert_secured(page)
    csp = page.headers["content-security-policy"]
    styles = re.findall(r"<style>(.*?)</style>", page.text, re.DOTALL)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"style-src 'self' 'sha256-{digest}'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
