"""The project's own knowledge base: complete, consistent, and linked to real calendars."""

from __future__ import annotations

from collections import defaultdict

import yaml

from chatbot.corpus import LANGUAGES, load_corpus
from tests.conftest import CORPUS_DIR


def test_corpus_loads_without_errors() -> None:
    result = load_corpus(CORPUS_DIR)
    assert [str(i) for i in result.issues] == []
    assert len(result.articles) >= 48 * len(LANGUAGES)


def test_every_article_exists_in_all_languages_with_current_translations() -> None:
    versions: dict[str, dict[str, object]] = defaultdict(dict)
    for article in load_corpus(CORPUS_DIR).articles:
        versions[article.id][article.lang] = article
    for article_id, by_lang in versions.items():
        assert sorted(by_lang) == sorted(LANGUAGES), article_id
        german = by_lang["de"]
        for lang, article in by_lang.items():
            if lang != "de":
                assert article.source_revision == german.updated, f"{article_id}.{lang}"  # type: ignore[attr-defined]
            assert article.department == german.department  # type: ignore[attr-defined]
            assert article.appointment_service == german.appointment_service  # type: ignore[attr-defined]


def test_appointment_services_name_configured_calendars() -> None:
    from importlib import resources

    calendars = yaml.safe_load(
        resources.files("chatbot.escalation").joinpath("calendars.yaml").read_text("utf-8"))
    known = set(calendars.get("services", calendars))
    used = {a.appointment_service for a in load_corpus(CORPUS_DIR).articles
            if a.appointment_service}
    assert used, "some articles offer appointments"
    assert used <= known, used - known
