"""Dialogue pieces without the model: intents, follow-ups, policy, templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.dialogue.compose import TEMPLATES, Composer, PromptsError
from chatbot.dialogue.followup import retrieval_query
from chatbot.dialogue.intents import SmallTalk, asks_for_human, small_talk
from chatbot.dialogue.policy import ANSWER_MIN, ReplyType, decide
from chatbot.evaluation.chat import Outcome, table
from chatbot.retrieval import ArticleHit

REPO = Path(__file__).resolve().parents[2]


def hit(article_id: str, score: float) -> ArticleHit:
    return ArticleHit(article_id=article_id, lang="de", title=article_id, department="d",
                      score=score, snippet="", heading="", section="text", url=None,
                      appointment_service=None, dense=0.9, lexical=1.0, matched_lang="de")


def test_small_talk() -> None:
    assert small_talk("Hallo!") is SmallTalk.GREETING
    assert small_talk("vielen Dank") is SmallTalk.THANKS
    assert small_talk("bi xatirê te") is SmallTalk.GOODBYE
    assert small_talk("Hallo, ich brauche einen Reisepass") is None


def test_human_requests() -> None:
    assert asks_for_human("Ich möchte mit einem Menschen sprechen")
    assert asks_for_human("I want to file a complaint")
    assert not asks_for_human("Wie beantrage ich einen Reisepass?")


def test_follow_up_query() -> None:
    assert retrieval_query("Was kostet das?", "Reisepass beantragen", None) == (
        "Was kostet das? Reisepass beantragen")
    long = "Wie melde ich meinen neuen Wohnsitz in der Stadt an?"
    assert retrieval_query(long, "Reisepass", None) == long
    assert retrieval_query("Was kostet das?", None, None) == "Was kostet das?"
    # A long new question keeps its own topic, though "das" is also a pronoun ...
    weather = "Wie wird das Wetter am Wochenende an der Nordsee?"
    assert retrieval_query(weather, "Reisepass", None) == weather
    # ... while a pronoun that only points back still carries the topic.
    documents = "Welche Unterlagen brauche ich dafür bei der Abgabe im Amt?"
    assert retrieval_query(documents, "Reisepass", None) == f"{documents} Reisepass"


def test_policy() -> None:
    assert decide([hit("a", 0.95), hit("b", 0.02)]).type is ReplyType.ANSWER
    clarify = decide([hit("a", 0.45), hit("b", 0.40), hit("c", 0.05)])
    assert clarify.type is ReplyType.CLARIFY
    assert [h.article_id for h in clarify.hits] == ["a", "b"]
    assert decide([hit("a", 0.15), hit("b", 0.1)]).type is ReplyType.ESCALATE
    assert decide([]).type is ReplyType.ESCALATE
    assert ANSWER_MIN > 0.3


def test_templates_checked_at_start(tmp_path: Path) -> None:
    Composer(REPO / "prompts")
    for lang in ("de", "en"):
        (tmp_path / lang).mkdir()
        for name in TEMPLATES:
            (tmp_path / lang / f"{name}.md.j2").write_text("x", encoding="utf-8")
    with pytest.raises(PromptsError, match=r"fr/answer\.md\.j2"):
        Composer(tmp_path)


def test_templates_strict_undefined() -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        Composer(REPO / "prompts").render("de", "answer", title="t")


def test_eval_table() -> None:
    text = table([Outcome("de", True, ReplyType.ANSWER, True),
                  Outcome("de", False, ReplyType.ESCALATE, False)])
    assert "de" in text
    assert "1.00" in text
