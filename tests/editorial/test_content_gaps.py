"""Selecting, masking, grouping and exporting content gaps (fake embedder; SQLite and
PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from chatbot.editorial.content_gaps import ContentGap, cluster_gaps, content_gap_report
from chatbot.editorial.csv_export import COLUMNS, gaps_csv
from chatbot.editorial.gap_questions import (
    REASON_ESCALATED,
    REASON_NEGATIVE_FEEDBACK,
    REASON_UNSUPPORTED_LANGUAGE,
    UNKNOWN,
    GapQuestion,
    gap_questions,
)
from chatbot.storage import Database
from tests.conftest import FIXED_NOW, FakeClock, FakeEmbedder
from tests.editorial.gap_data import rate, record_turn, seed_gaps

HUND = "Wie hoch ist die Hundesteuer für zwei Hunde?"


def question(text: str, *, lang: str = "de", department: str = UNKNOWN,
             reasons: frozenset[str] = frozenset({REASON_ESCALATED}), days_ago: float = 0,
             article_id: str | None = None) -> GapQuestion:
    return GapQuestion(text=text, language=lang, department=department, reasons=reasons,
                       asked_at=FIXED_NOW - timedelta(days=days_ago), article_id=article_id)


def test_escalated_unsupported_and_down_rated_questions_are_gaps(database: Database,
                                                                 clock: FakeClock) -> None:
    with database.write_session() as session:
        seed_gaps(session, clock())
    with database.session() as session:
        found = gap_questions(session)
    summary = sorted((q.text, q.language, q.department, tuple(sorted(q.reasons)), q.article_id)
                     for q in found)
    masked = f"{HUND} Antwort an [email] oder [phone]"
    assert summary == sorted([
        (HUND, "de", UNKNOWN, (REASON_ESCALATED,), None),
        (HUND, "de", UNKNOWN, (REASON_ESCALATED,), None),
        (masked, "de", UNKNOWN, (REASON_ESCALATED,), None),
        # Turn 2 of c4 was rated down; its turn 1 (answered, unrated) is no gap.
        ("Wie lange dauert ein Expresspass?", "de", "buergerservice",
         (REASON_NEGATIVE_FEEDBACK,), "reisepass-beantragen"),
        ("كيف أسجل عنواني الجديد؟", "ar", UNKNOWN, (REASON_UNSUPPORTED_LANGUAGE,), None),
    ])
    with database.session() as session:
        assert [q.language for q in gap_questions(session, language="ar")] == ["ar"]
        assert gap_questions(session, language="fr") == []


def test_an_escalated_and_down_rated_question_counts_both_reasons(database: Database,
                                                                  clock: FakeClock) -> None:
    with database.write_session() as session:
        record_turn(session, "c1", "Hallo?", "answer", now=clock())
        record_turn(session, "c1", "Ich will einen Menschen", "escalate", now=clock())
        rate(session, "c1", 2, helpful=False, now=clock())
        rate(session, "c1", 2, helpful=False, now=clock())  # twice: still one question
    with database.session() as session:
        (found,) = gap_questions(session)
    assert found.text == "Ich will einen Menschen"
    assert found.reasons == {REASON_ESCALATED, REASON_NEGATIVE_FEEDBACK}


def test_the_window_keeps_only_recent_questions(database: Database, clock: FakeClock) -> None:
    with database.write_session() as session:
        record_turn(session, "old", "Alte Frage zur Hundesteuer", "escalate", now=clock())
        record_turn(session, "old-rated", "Alte Antwort", "answer", now=clock())
        clock.advance(days=40)
        rate(session, "old-rated", 1, helpful=False, now=clock())  # late rating, old question
        record_turn(session, "old", "Neue Frage zur Hundesteuer", "escalate", now=clock())
    with database.session() as session:
        recent = content_gap_report(session, now=clock(), days=30)
        everything = content_gap_report(session, now=clock())
    assert recent.since == clock() - timedelta(days=30)
    assert [g.representative for g in recent.gaps] == ["Neue Frage zur Hundesteuer"]
    assert everything.questions == 3
    assert everything.since is None


def test_clusters_per_language_and_department_most_asked_first() -> None:
    embedder = FakeEmbedder()
    questions = [
        question("Hundesteuer anmelden", days_ago=3),
        question("Hundesteuer anmelden bitte", days_ago=2),
        question("Hundesteuer anmelden", days_ago=1,
                 reasons=frozenset({REASON_ESCALATED, REASON_NEGATIVE_FEEDBACK})),
        question("Wo ist das Fundbüro?", days_ago=5),
        # The same words in another language or department are another group.
        question("Hundesteuer anmelden", lang="en"),
        question("Hundesteuer anmelden", department="finanzen", article_id="hundesteuer"),
    ]
    gaps = cluster_gaps(questions, embedder=embedder, threshold=0.8)
    assert [(g.language, g.department, g.count) for g in gaps] == [
        ("de", UNKNOWN, 3), ("de", "finanzen", 1), ("en", UNKNOWN, 1), ("de", UNKNOWN, 1)]
    top = gaps[0]
    assert top.representative == "Hundesteuer anmelden"
    assert top.examples == ["Hundesteuer anmelden", "Hundesteuer anmelden bitte"]
    assert (top.escalated, top.negative_feedback, top.unsupported_language) == (3, 1, 0)
    assert top.first_seen == FIXED_NOW - timedelta(days=3)
    assert top.last_seen == FIXED_NOW - timedelta(days=1)
    assert gaps[1].offered_articles == ["hundesteuer"]
    # A strict threshold separates the two wordings.
    strict = cluster_gaps(questions, embedder=embedder, threshold=0.999)
    assert [g.count for g in strict if g.language == "de" and g.department == UNKNOWN] == \
        [2, 1, 1]


def test_examples_are_capped() -> None:
    questions = [question(f"Hundesteuer Frage {i}") for i in range(8)]
    (gap,) = cluster_gaps(questions, embedder=FakeEmbedder(), threshold=0.3, examples=3)
    assert gap.count == 8
    assert len(gap.examples) == 3


def test_without_an_embedder_identical_questions_cluster() -> None:
    gaps = cluster_gaps([question("Hundesteuer?"), question("hundesteuer"),
                         question("Fundbüro")], embedder=None)
    assert sorted(g.count for g in gaps) == [1, 2]


def test_report_without_search_uses_exact_text_and_limits(database: Database,
                                                           clock: FakeClock) -> None:
    with database.write_session() as session:
        seed_gaps(session, clock())
    with database.session() as session:
        report = content_gap_report(session, now=clock(), limit=2)
    assert report.similarity == "exact"
    assert report.threshold is None
    assert report.questions == 5
    assert report.clusters == 4
    assert [g.count for g in report.gaps] == [2, 1]
    with pytest.raises(ValueError, match="days"):
        content_gap_report(session, now=clock(), days=0)


def test_csv_has_a_bom_one_row_per_cluster_and_defuses_formulas() -> None:
    gaps = cluster_gaps([question("=HYPERLINK(\"http://x\")"), question(HUND),
                         question(HUND)], embedder=FakeEmbedder())
    text = gaps_csv(gaps)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["count"], r["representative"]) for r in rows] == [
        ("2", HUND), ("1", "'=HYPERLINK(\"http://x\")")]
    assert rows[0]["escalated"] == "2"
    assert rows[0]["nearest_article_id"] == ""


def test_as_dict_is_json_ready() -> None:
    (gap,) = cluster_gaps([question(HUND)], embedder=None)
    assert isinstance(gap, ContentGap)
    data = gap.as_dict()
    assert data["first_seen"] == FIXED_NOW.isoformat()
    assert data["nearest_article"] is None
