"""Search with the real model over the project's corpus, as citizens would ask."""

from __future__ import annotations

import json

import pytest

from chatbot.retrieval import SearchMode
from tests.conftest import REPO

pytestmark = pytest.mark.slow

QUESTIONS = [json.loads(line) for line in
             (REPO / "tests" / "data" / "questions.jsonl").read_text("utf-8").splitlines()
             if line.strip()]


@pytest.mark.parametrize(
    ("query", "article_id", "lang"),
    [
        ("Wie beantrage ich einen Reisepass?", "reisepass-beantragen", "de"),
        ("I lost my ID card, what should I do?", "ausweis-verloren", "en"),
        ("J'arrive d'une autre ville, comment déclarer ma nouvelle adresse ici ?",
         "wohnsitz-anmelden", "fr"),
        ("Come posso prenotare il ritiro dei rifiuti ingombranti?", "sperrmuell-anmelden", "it"),
        ("Jak zarejestrować samochód?", "fahrzeug-zulassen", "pl"),
        ("Köpeğimi nasıl kaydettirebilirim, köpek vergisi ne kadar?", "hund-anmelden-hundesteuer",
         "tr"),
        ("Ez çawa dikarim pasaporta nû bistînim?", "reisepass-beantragen", "ku"),
    ],
)
def test_each_language_finds_its_article_in_its_language(search_service, query: str,
                                                         article_id: str, lang: str) -> None:
    result = search_service.search(query, top_k=3)
    assert result.language.code == lang
    # Top 3: close candidates are offered as a choice; the dev-split table in the
    # README measures top-1 over 336 questions.
    assert article_id in [hit.article_id for hit in result.hits]
    top = result.hits[0]
    assert top.lang == lang
    assert 0.0 <= top.score <= 1.0
    assert top.snippet


def test_unambiguous_german_question_is_answered_first(search_service) -> None:
    result = search_service.search("Was kostet ein Reisepass für Erwachsene?", top_k=3)
    assert result.hits[0].article_id == "reisepass-beantragen"
    assert result.hits[0].score > result.hits[1].score


def test_the_german_service_name_outranks_what_e5_reads_into_the_rest(search_service) -> None:
    # e5 reads "zarokan" (children) and ranks the child's passport first; the German
    # name of the housing entitlement certificate says what is asked (19-feature ranker:
    # Kinderreisepass 0.21, the WBS not among the first two).
    result = search_service.search("ez bi 2 zarokan dijîm, wohnberechtigungsschein çawa distînim",
                                   top_k=3)
    assert result.language.code == "ku"
    assert result.hits[0].article_id == "wohnberechtigungsschein"


def test_caller_language_overrides_detection_and_picks_the_version(search_service) -> None:
    result = search_service.search("Reisepass", lang="tr", top_k=1)
    assert result.language.code == "tr"
    assert result.hits[0].lang == "tr"


@pytest.mark.parametrize(("message", "lang"), [
    ("is icin Führungszeugnis lazim kac gunde gelir", "tr"),
    ("Führungszeugnis beantragen", "de"),
    ("wie lange dauert ein Führungszeugnis", "de"),
])
def test_a_german_service_name_does_not_make_a_message_german(search_service, message: str,
                                                               lang: str) -> None:
    # The detector alone calls the Turkish message German (the long official term).
    assert search_service.detector.detect(message).code == "de"
    assert search_service.detect(message).code == lang


def test_hybrid_is_not_worse_than_its_parts_on_the_project_questions(search_service) -> None:
    """Regression guard on the project's own question set (the README reports the table)."""
    retriever = search_service._retriever
    detector = search_service.detector
    hits_at_3: dict[str, list[bool]] = {}
    for mode in SearchMode:
        found = []
        for row in QUESTIONS:
            guess = detector.detect(row["question"])
            hits = retriever.search(row["question"], query_lang=guess.code if guess.supported
                                    else None, top_k=3, mode=mode)
            found.append(row["article_id"] in [h.article_id for h in hits])
        hits_at_3[mode.value] = found
    rate = {mode: sum(found) / len(found) for mode, found in hits_at_3.items()}
    assert rate["hybrid"] >= rate["dense"] - 0.01
    assert rate["hybrid"] >= rate["bm25"]
    assert rate["hybrid"] >= 0.85
