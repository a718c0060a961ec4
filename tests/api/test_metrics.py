"""/metrics on real requests through the app: requests and latency per route template
and status (500s counted once, methods bounded), tickets, bookings, limit rejections,
database errors, chat replies per type/language/department, the index in service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from chatbot import errors
from chatbot.api import create_app
from chatbot.config import Settings
from chatbot.index import IndexStore, build_index
from chatbot.language import LanguageDetector
from chatbot.retrieval.service import SearchService
from tests.api.test_appointments_api import BODY as BOOKING
from tests.api.test_tickets_api import BODY as TICKET
from tests.conftest import FakeClock, FakeEmbedder, free_port

AppFactory = Callable[..., tuple[FastAPI, TestClient]]


@pytest.fixture
def make_app(tmp_path: Path, clock: FakeClock) -> Iterator[AppFactory]:
    stack: list[TestClient] = []

    def make(**overrides: Any) -> tuple[FastAPI, TestClient]:
        settings = Settings(**{"database_url": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                               "load_search": False, "index_poll_seconds": 0,
                               "index_dir": tmp_path / "indexes", **overrides})
        app = create_app(settings, clock=clock)
        client = TestClient(app, raise_server_exceptions=False)
        stack.append(client.__enter__())
        return app, client

    yield make
    for client in reversed(stack):
        client.__exit__(None, None, None)


def value(app: FastAPI, name: str, **labels: str) -> float:
    sample = app.state.metrics.registry.get_sample_value(name, labels)
    return float(sample or 0.0)


def requests(app: FastAPI, method: str, route: str, status: str) -> float:
    return value(app, "chatbot_http_requests_total", method=method, route=route, status=status)


def label_values(app: FastAPI, metric: str, label: str) -> set[str]:
    return {sample.labels[label] for family in app.state.metrics.registry.collect()
            for sample in family.samples if sample.name == metric}


def test_requests_and_latency_per_route_template_never_the_raw_path(
        make_app: AppFactory) -> None:
    app, client = make_app(rate_limits_enabled=False)
    created = client.post("/api/v1/tickets", json=TICKET)
    assert created.status_code == 201
    reference = created.json()["reference"]
    assert client.get(f"/api/v1/tickets/{reference}",
                      headers={"X-Access-Token": "wrong" * 8}).status_code == 404
    assert client.get("/api/v1/no/such/path/42").status_code == 404

    template = "/api/v1/tickets/{reference}"
    assert requests(app, "POST", "/api/v1/tickets", "201") == 1
    assert requests(app, "GET", template, "404") == 1
    assert requests(app, "GET", "unmatched", "404") == 1
    assert value(app, "chatbot_http_request_duration_seconds_count", method="GET",
                 route=template, status="404") == 1
    assert value(app, "chatbot_http_request_duration_seconds_sum", method="POST",
                 route="/api/v1/tickets", status="201") > 0
    text = client.get("/metrics").text
    assert reference not in text
    assert "/no/such/path" not in text


def test_a_made_up_method_does_not_create_a_label_value(make_app: AppFactory) -> None:
    app, client = make_app()
    for n in range(5):
        client.request(f"BREW{n}", "/api/v1/hotline")
        client.request(f"PROPFIND{n}", "/no-such-thing")
    methods = label_values(app, "chatbot_http_requests_total", "method")
    assert methods == {"other"}
    assert requests(app, "other", "/api/v1/hotline", "405") == 5
    assert requests(app, "other", "unmatched", "404") == 5


def test_a_500_is_counted_exactly_once(make_app: AppFactory) -> None:
    app, client = make_app()

    @app.post("/raise")
    def raise_it() -> None:
        raise app.state.to_raise

    # An exception that escapes the routes (Starlette's error middleware answers) and a
    # domain error without a status of its own (the problem handler answers 500).
    app.state.to_raise = RuntimeError("bug")
    assert client.post("/raise").status_code == 500
    assert requests(app, "POST", "/raise", "500") == 1
    app.state.to_raise = errors.ChatbotError("a domain error without a problem kind")
    assert client.post("/raise").status_code == 500
    assert requests(app, "POST", "/raise", "500") == 2
    assert value(app, "chatbot_http_request_duration_seconds_count", method="POST",
                 route="/raise", status="500") == 2


def test_tickets_and_bookings_are_counted_and_replays_are_not(make_app: AppFactory) -> None:
    app, client = make_app(rate_limits_enabled=False)
    key = {"Idempotency-Key": "obs-test-key-0001"}
    assert client.post("/api/v1/tickets", json=TICKET, headers=key).status_code == 201
    assert client.post("/api/v1/tickets", json=TICKET, headers=key).status_code == 200
    assert client.post("/api/v1/tickets", json={**TICKET, "consent": False}).status_code == 422
    assert value(app, "chatbot_tickets_created_total") == 1
    assert client.post("/api/v1/appointments", json=BOOKING).status_code == 201
    assert client.post("/api/v1/appointments", json=BOOKING).status_code == 409  # fully booked
    assert value(app, "chatbot_bookings_total") == 1


def test_limit_rejections_per_endpoint_class_and_reason(make_app: AppFactory) -> None:
    app, client = make_app(rate_limit_tickets="1/minute", max_body_bytes=1024,
                           tickets_per_contact_per_hour=0)
    assert client.post("/api/v1/tickets", json=TICKET).status_code == 201
    assert client.post("/api/v1/tickets", json=TICKET).status_code == 429
    assert client.post("/api/v1/chat/feedback", content=b"x" * 4096,
                       headers={"Content-Type": "application/json"}).status_code == 413
    assert value(app, "chatbot_limit_rejections_total", endpoint="tickets",
                 reason="rate_limited") == 1
    assert value(app, "chatbot_limit_rejections_total", endpoint="other",
                 reason="body_too_large") == 1
    # The refusal is a request of its route too, though it never reached the router.
    assert requests(app, "POST", "/api/v1/tickets", "429") == 1
    assert requests(app, "POST", "/api/v1/chat/feedback", "413") == 1


def test_database_errors_are_counted(tmp_path: Path, make_app: AppFactory) -> None:
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    app, client = make_app(database_url=closed, auto_migrate=False, rate_limits_enabled=False)
    assert client.post("/api/v1/tickets", json=TICKET).status_code == 503
    assert client.get("/api/v1/appointments/slots",
                      params={"service": "bauen"}).status_code == 503
    assert value(app, "chatbot_database_unavailable_total") == 2
    assert requests(app, "POST", "/api/v1/tickets", "503") == 1


def test_no_index_in_service_shows_no_version(make_app: AppFactory) -> None:
    _, client = make_app()
    text = client.get("/metrics").text
    assert "chatbot_index_info" in text
    assert "chatbot_index_info{" not in text


@pytest.fixture(scope="module")
def one_article_search(tmp_path_factory: pytest.TempPathFactory) -> SearchService:
    """A real index of one article, embedded by the fake model: what is counted does not
    depend on the model's answers."""
    root = tmp_path_factory.mktemp("metrics-index")
    article = root / "corpus" / "buergerservice" / "reisepass.de.md"
    article.parent.mkdir(parents=True)
    article.write_text("---\nid: reisepass\nlang: de\ntitle: Reisepass\ndepartment: "
                       "buergerservice\nupdated: 2026-10-01\n---\n## Antrag\n\nDen Reisepass "
                       "beantragen Sie persönlich.\n", encoding="utf-8")
    embedder = FakeEmbedder()
    build_index(corpus_dir=root / "corpus", store=IndexStore(root / "index"), embedder=embedder)
    return SearchService(embedder=embedder, detector=LanguageDetector(),
                         index_root=root / "index")


def test_chat_replies_per_type_language_and_department_and_the_index_version(
        one_article_search: SearchService, tmp_path: Path, clock: FakeClock) -> None:
    search = one_article_search
    settings = Settings(index_dir=search.store.root, index_poll_seconds=0,
                        database_url=f"sqlite:///{tmp_path / 'chat.sqlite3'}")
    app = create_app(settings, search_service=search, clock=clock)
    with TestClient(app) as client:
        german = client.post("/api/v1/chat", json={"message": "Reisepass beantragen"})
        ukrainian = client.post("/api/v1/chat", json={
            "message": "Добрий день, як мені отримати новий паспорт?"})
        text = client.get("/metrics").text
    assert german.status_code == ukrainian.status_code == 200
    assert ukrainian.json()["type"] == "unsupported_language"
    replies = {(s.labels["type"], s.labels["language"], s.labels["department"]): s.value
               for family in app.state.metrics.registry.collect()
               for s in family.samples if s.name == "chatbot_chat_replies_total"}
    assert replies.pop(("unsupported_language", "other", "none")) == 1
    assert list(replies.values()) == [1]
    ((reply_type, language, department),) = replies
    assert (reply_type, language) == (german.json()["type"], german.json()["language"]["code"])
    assert department in {"buergerservice", "none"}
    index = search.index
    assert index is not None
    assert (f'chatbot_index_info{{model="{index.manifest.model_id}",'
            f'version="{index.version}"}} 1.0') in text
    assert "chatbot_index_built_timestamp_seconds " in text
