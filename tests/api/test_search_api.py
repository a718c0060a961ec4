"""The search endpoint with the real model and index, and its input validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from chatbot.api import create_app
from chatbot.config import Settings

pytestmark = pytest.mark.slow


def test_german_question_gets_hits_and_language(search_client) -> None:  # type: ignore[no-untyped-def]
    response = search_client.post("/api/v1/search",
                                  json={"query": "Wie beantrage ich einen Reisepass?"})
    assert response.status_code == 200
    body = response.json()
    assert body["language"]["code"] == "de"
    assert 0 < body["language"]["confidence"] <= 1
    first = body["hits"][0]
    assert first["article_id"] == "reisepass-beantragen"
    assert set(first) >= {"article_id", "lang", "title", "department", "score", "snippet", "url"}
    assert len(body["hits"]) == 5
    scores = [hit["score"] for hit in body["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_source_link_opens_the_article_page_safely(search_client) -> None:  # type: ignore[no-untyped-def]
    hit = search_client.post("/api/v1/search", json={"query": "Hundesteuer", "top_k": 1,
                                                     "lang": "en"}).json()["hits"][0]
    assert hit["url"].startswith("http://testserver/articles/")
    page = search_client.get(hit["url"].replace("http://testserver", ""))
    assert page.status_code == 200
    assert hit["title"] in page.text
    assert "<script" not in page.text.lower()
    assert search_client.get("/articles/no-such-article").status_code == 404


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"query": ""}, "at least 1 character"),
        ({"query": "   \n "}, "must not be empty"),
        ({"query": "x" * 1001}, "at most 1000 characters"),
        ({"query": "Pass", "top_k": 0}, "greater than or equal to 1"),
        ({"query": "Pass", "top_k": 21}, "less than or equal to 20"),
        ({"query": "Pass", "lang": "es"}, "unknown language 'es'"),
        ({"query": 42}, "valid string"),
        ({"q": "Pass"}, "Field required"),
    ],
)
def test_invalid_requests_get_422_with_a_clear_message(search_client, payload: dict[str, object],  # type: ignore[no-untyped-def]
                                                       message: str) -> None:
    response = search_client.post("/api/v1/search", json=payload)
    assert response.status_code == 422
    assert message in response.text


def test_malformed_json_is_422(search_client) -> None:  # type: ignore[no-untyped-def]
    response = search_client.post("/api/v1/search", content=b"{not json",
                                  headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "JSON" in response.text


def test_health_readiness_and_metrics(search_client) -> None:  # type: ignore[no-untyped-def]
    assert search_client.get("/healthz").json() == {"status": "ok"}
    ready = search_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["index_version"].startswith("v")
    search_client.post("/api/v1/search", json={"query": "Reisepass"})
    metrics = search_client.get("/metrics").text
    assert "chatbot_search_seconds_count 1.0" in metrics
    assert 'route="/api/v1/search"' in metrics


def test_openapi_documents_the_search_contract(search_client) -> None:  # type: ignore[no-untyped-def]
    schema = search_client.get("/openapi.json").json()
    assert "/api/v1/search" in schema["paths"]


def test_without_an_index_search_is_503_naming_the_command(real_embedder, tmp_path: Path  # type: ignore[no-untyped-def]
                                                           ) -> None:
    from chatbot.language import LanguageDetector
    from chatbot.retrieval.service import SearchService

    service = SearchService(embedder=real_embedder, detector=LanguageDetector(),
                            index_root=tmp_path / "empty")
    settings = Settings(index_dir=tmp_path / "empty", index_poll_seconds=0,
                        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with TestClient(create_app(settings, search_service=service)) as client:
        response = client.post("/api/v1/search", json={"query": "Reisepass"})
        assert response.status_code == 503
        assert "chatbot ingest" in response.json()["detail"]
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "chatbot ingest" in ready.json()["reason"]
