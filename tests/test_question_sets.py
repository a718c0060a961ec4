"""The labelled question sets stay true to the corpus: every expected article exists,
and every expected fact of a blind question is in that article's version in the
question's language (an editor changing a fee must also change the label, or the chat
figures would quietly measure the old text)."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

from chatbot.corpus import load_corpus
from chatbot.evaluation.chat import contains_fact, read_cases
from chatbot.language import SUPPORTED_LANGUAGES

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"


@cache
def corpus_text() -> dict[tuple[str, str], str]:
    """Each version's title, keywords and body, read once for both tests."""
    loaded = load_corpus(REPO / "knowledge_corpus")
    return {(a.id, a.lang): " ".join((a.title, " ".join(a.keywords), a.body))
            for a in loaded.articles}


def test_every_expected_fact_is_in_the_article_version_of_the_questions_language() -> None:
    texts = corpus_text()
    missing = []
    for case in read_cases(DATA / "blind_questions.jsonl"):
        for article_id in case.expected:
            assert (article_id, case.lang) in texts, (case.question, article_id)
        if not case.facts:
            continue
        if not any(all(contains_fact(texts[(article_id, case.lang)], fact)
                       for fact in case.facts) for article_id in case.expected):
            missing.append((case.lang, case.question, case.facts))
    assert missing == []


def test_question_rows_are_well_formed_and_split() -> None:
    texts = corpus_text()
    for name in ("questions.jsonl", "blind_questions.jsonl", "out_of_scope.jsonl"):
        rows = [json.loads(line) for line in (DATA / name).read_text("utf-8").splitlines()
                if line.strip()]
        assert rows, name
        questions = Counter(row["question"] for row in rows)
        assert [q for q, n in questions.items() if n > 1] == [], name
        for row in rows:
            assert row["lang"] in SUPPORTED_LANGUAGES, row
            assert row["split"] in ("train", "dev", "test"), row
            if row.get("article_id"):
                assert (row["article_id"], row["lang"]) in texts, row
