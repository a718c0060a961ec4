"""GET /api/v1/admin/content-gaps: JSON and CSV, masking, selection, parameters
(SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chatbot.config import Settings
from chatbot.storage import Database
from tests.conftest import FakeClock, FakeEmbedder
from tests.editorial.gap_data import seed_gaps

PATH = "/api/v1/admin/content-gaps"
HUND = "Wie hoch ist die Hundesteuer für zwei Hunde?"
PERSONAL = ("max.muster@example.org", "0151 2345678", "2345678")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def seeded(database: Database, clock: FakeClock) -> None:
    with database.write_session() as session:
        seed_gaps(session, clock())


@pytest.fixture
def editor(make_user: Callable[..., str]) -> dict[str, str]:
    return _bearer(make_user("e.redakteur", "editor"))


@pytest.fixture
def search_app_client(write_article: Callable[..., Path], tmp_path: Path, db_url: str,
                      clock: FakeClock) -> Iterator[TestClient]:
    """The app with a loaded search over a small corpus (fake embedder)."""
    from chatbot.api import create_app
    from chatbot.index import IndexStore, build_index
    from chatbot.language import LanguageDetector
    from chatbot.retrieval.service import SearchService

    write_article("hundesteuer", "de", department="finanzen", title="Hundesteuer",
                  body="## Hundesteuer\n\nWie hoch ist die Hundesteuer? Für zwei Hunde ...")
    write_article("reisepass-beantragen", "de", department="buergerservice",
                  title="Reisepass beantragen", body="## Antrag\n\nReisepass, Expresspass.")
    embedder = FakeEmbedder()
    build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "idx"),
                embedder=embedder)
    service = SearchService(embedder=embedder, detector=LanguageDetector(),
                            index_root=tmp_path / "idx")
    settings = Settings(database_url=db_url, index_poll_seconds=0, auto_migrate=False,
                        index_dir=tmp_path / "idx", corpus_dir=tmp_path / "corpus")
    with TestClient(create_app(settings, search_service=service, clock=clock)) as client:
        yield client


def test_json_lists_masked_escalated_and_down_rated_questions(
        backoffice_client: TestClient, seeded: None, editor: dict[str, str]) -> None:
    response = backoffice_client.get(PATH, headers=editor)
    assert response.status_code == 200, response.text
    for secret in PERSONAL:
        assert secret not in response.text
    body = response.json()
    assert body["similarity"] == "exact"  # no model loaded in this app
    assert body["since"] is None
    assert body["questions"] == 5
    gaps = body["gaps"]
    assert gaps[0]["count"] == 2
    assert gaps[0]["representative"] == HUND
    assert (gaps[0]["language"], gaps[0]["department"], gaps[0]["escalated"]) == (
        "de", "unknown", 2)
    by_question = {g["representative"]: g for g in gaps}
    masked = by_question[f"{HUND} Antwort an [email] oder [phone]"]
    assert masked["escalated"] == 1
    rated = by_question["Wie lange dauert ein Expresspass?"]
    assert (rated["department"], rated["negative_feedback"], rated["escalated"]) == (
        "buergerservice", 1, 0)
    assert rated["offered_articles"] == ["reisepass-beantragen"]
    arabic = next(g for g in gaps if g["language"] == "ar")
    assert arabic["unsupported_language"] == 1
    # Answered and unrated, or rated helpful: not gaps.
    shown = " ".join(e for g in gaps for e in g["examples"])
    for answered in ("Reisepass beantragen", "gelbe Tonne", "Personalausweis"):
        assert answered not in shown

    only_ar = backoffice_client.get(PATH, params={"lang": "ar"}, headers=editor).json()
    assert [g["language"] for g in only_ar["gaps"]] == ["ar"]
    limited = backoffice_client.get(PATH, params={"limit": 1, "days": 7}, headers=editor)
    assert limited.json()["clusters"] == 4
    assert len(limited.json()["gaps"]) == 1


def test_csv_download_is_masked(backoffice_client: TestClient, seeded: None,
                                editor: dict[str, str]) -> None:
    response = backoffice_client.get(PATH, params={"format": "csv"}, headers=editor)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="content-gaps-2026-10-05.csv"')
    text = response.content.decode("utf-8-sig")
    for secret in PERSONAL:
        assert secret not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    assert rows[0]["representative"] == HUND
    assert rows[0]["count"] == "2"
    assert any("[email]" in r["representative"] and "[phone]" in r["representative"]
               for r in rows)
    assert {r["negative_feedback"] for r in rows} == {"0", "1"}


@pytest.mark.parametrize("params", [
    {"days": 0}, {"days": "a week"}, {"format": "xlsx"}, {"lang": "DE"}, {"lang": "d"},
    {"limit": 0}, {"limit": 5000},
])
def test_bad_parameters_are_422(backoffice_client: TestClient, editor: dict[str, str],
                                params: dict[str, Any]) -> None:
    response = backoffice_client.get(PATH, params=params, headers=editor)
    assert response.status_code == 422, response.text


def test_with_search_loaded_questions_cluster_by_embeddings_with_nearest_articles(
        search_app_client: TestClient, seeded: None, make_user: Callable[..., str]) -> None:
    editor = _bearer(make_user("e.redakteur", "editor"))
    body = search_app_client.get(PATH, headers=editor).json()
    assert body["similarity"] == "embeddings"
    assert body["threshold"] == pytest.approx(0.86)
    top = body["gaps"][0]
    assert top["representative"] == HUND
    assert top["nearest_article"]["article_id"] == "hundesteuer"
    assert next(g for g in body["gaps"] if g["language"] == "ar")["nearest_article"] is None
    csv_text = search_app_client.get(PATH, params={"format": "csv"},
                                     headers=editor).content.decode("utf-8-sig")
    first = next(csv.DictReader(io.StringIO(csv_text)))
    assert (first["nearest_article_id"], first["nearest_article_title"]) == (
        "hundesteuer", "Hundesteuer")
