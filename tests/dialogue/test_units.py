"""Dialogue pieces without the model: intents, follow-ups, policy, templates."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from chatbot.dialogue.compose import TEMPLATES, Composer, PromptsError
from chatbot.dialogue.followup import retrieval_query
from chatbot.dialogue.intents import SmallTalk, asks_for_human, complains, small_talk
from chatbot.dialogue.policy import Evidence, PolicyProfile, ReplyType
from chatbot.evaluation.chat import ChatCase, Outcome, contains_fact, table
from chatbot.retrieval import ArticleHit

REPO = Path(__file__).resolve().parents[2]


def hit(article_id: str, score: float) -> ArticleHit:
    return ArticleHit(article_id=article_id, lang="de", title=article_id, department="d",
                      score=score, snippet="", heading="", section="text", url=None,
                      appointment_service=None, dense=0.9, lexical=1.0, matched_lang="de")


# A profile that looks at the ranker's score only: p = sigmoid(10 * (score - 0.5)).
SCORE_ONLY = PolicyProfile(
    model_id="test", weights={"score": 10.0, "margin": 0.0, "dense": 0.0, "centred": 0.0,
                              "lexical_raw": 0.0, "coverage": 0.0, "title_coverage": 0.0,
                              "source_term": 0.0},
    language_bias={"ku": 1.0}, bias=-5.0, answer_min=0.8, clarify_min=0.4, suggest_min=0.2,
    related_max_gap=0.01)


def test_small_talk() -> None:
    assert small_talk("Hallo!") is SmallTalk.GREETING
    assert small_talk("vielen Dank") is SmallTalk.THANKS
    assert small_talk("bi xatirê te") is SmallTalk.GOODBYE
    assert small_talk("Hallo, ich brauche einen Reisepass") is None


def test_human_requests() -> None:
    assert asks_for_human("Ich möchte mit einem Menschen sprechen")
    assert not asks_for_human("I want to file a complaint")
    assert complains("I want to file a complaint")
    assert complains("ciranê me muzîkê lêdide, ez ji kê re şikayet bikim")
    assert not asks_for_human("Wie beantrage ich einen Reisepass?")
    assert not complains("Wie beantrage ich einen Reisepass?")


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


def test_policy_answers_clarifies_suggests_and_refuses() -> None:
    answer = SCORE_ONLY.decide([hit("a", 0.95), hit("b", 0.02)], "de")
    assert (answer.type, answer.evidence) == (ReplyType.ANSWER, Evidence.CONFIDENT)
    clarify = SCORE_ONLY.decide([hit("a", 0.55), hit("b", 0.50), hit("c", 0.05)], "de")
    assert clarify.type is ReplyType.CLARIFY
    assert [h.article_id for h in clarify.hits] == ["a", "b"]
    weak = SCORE_ONLY.decide([hit("a", 0.42), hit("b", 0.1)], "de")
    assert (weak.type, weak.evidence, [h.article_id for h in weak.hits]) == (
        ReplyType.ESCALATE, Evidence.WEAK, ["a"])
    none = SCORE_ONLY.decide([hit("a", 0.2), hit("b", 0.1)], "de")
    assert (none.type, none.evidence, none.hits) == (ReplyType.ESCALATE, Evidence.NONE, [])
    assert SCORE_ONLY.decide([], "de").evidence is Evidence.NONE


def test_two_nearly_tied_likely_articles_are_offered_as_a_choice() -> None:
    tied = SCORE_ONLY.decide([hit("a", 0.70), hit("b", 0.68), hit("c", 0.01)], "de")
    assert (tied.type, [h.article_id for h in tied.hits]) == (ReplyType.CLARIFY, ["a", "b"])
    clear = SCORE_ONLY.decide([hit("a", 0.80), hit("b", 0.55)], "de")
    assert clear.type is ReplyType.ANSWER


def test_an_article_the_ranker_rates_far_lower_is_no_choice() -> None:
    """"Führerschein" names every driving-licence article: each is likely on its own
    evidence, but only one the ranker rates near the top is offered beside it."""
    term_only = replace(SCORE_ONLY, weights={**SCORE_ONLY.weights, "score": 0.0,
                                             "title_coverage": 10.0})

    def named(article_id: str, score: float) -> ArticleHit:
        return replace(hit(article_id, score), title_coverage=1.0)

    far = term_only.decide([named("umtausch", 0.90), named("international", 0.05)], "de")
    assert (far.type, [h.article_id for h in far.hits]) == (ReplyType.ANSWER, ["umtausch"])
    near = term_only.decide([named("umtausch", 0.50), named("international", 0.40)], "de")
    assert (near.type, [h.article_id for h in near.hits]) == (
        ReplyType.CLARIFY, ["umtausch", "international"])


def test_a_lower_article_convincing_on_its_own_evidence_answers() -> None:
    """The ranker put the article whose title names the question sixth, and nothing above
    it is convincing: that article answers. A lower article as weak as the rest does not."""
    term_only = replace(SCORE_ONLY, weights={**SCORE_ONLY.weights, "score": 0.0,
                                             "title_coverage": 10.0})
    misplaced = [hit(f"other{i}", 0.2 - i / 100) for i in range(5)]
    named = replace(hit("zulassung", 0.05), title_coverage=1.0)
    rescued = term_only.decide([*misplaced, named], "de")
    assert (rescued.type, rescued.evidence, [h.article_id for h in rescued.hits]) == (
        ReplyType.ANSWER, Evidence.CONFIDENT, ["zulassung"])
    assert rescued.confidence >= term_only.answer_min
    assert rescued.rescued
    unnamed = term_only.decide([*misplaced, hit("zulassung", 0.05)], "de")
    assert (unnamed.type, unnamed.evidence) == (ReplyType.ESCALATE, Evidence.NONE)
    # Two lower articles equally convincing: no guess between them.
    twice = term_only.decide([*misplaced[:4], named, replace(named, article_id="halter")],
                             "de")
    assert (twice.type, twice.rescued) == (ReplyType.ESCALATE, False)


def test_a_far_lower_article_does_not_override_a_plausible_first_one() -> None:
    """"Führerschein" names every driving-licence article: with the first one plausible
    (above suggest_min), a lower article the ranker rates far below it is no answer,
    however much of its title the question names; one it rates a rival is."""
    blend = replace(SCORE_ONLY, weights={**SCORE_ONLY.weights, "score": 2.0,
                                         "title_coverage": 10.0}, bias=-2.2,
                    answer_min=0.8, clarify_min=0.5, suggest_min=0.2)
    first = hit("umtausch", 0.9)
    assert 0.2 <= blend.probability([first, hit("x", 0.05)], 0, "de") < 0.5
    far = blend.decide([first, replace(hit("international", 0.05), title_coverage=1.0)], "de")
    assert (far.type, far.evidence, [h.article_id for h in far.hits]) == (
        ReplyType.ESCALATE, Evidence.WEAK, ["umtausch"])
    near = blend.decide([replace(first, score=0.5),
                         replace(hit("international", 0.45), title_coverage=1.0)], "de")
    assert (near.type, [h.article_id for h in near.hits], near.rescued) == (
        ReplyType.ANSWER, ["international"], True)


def test_policy_language_bias_shifts_the_decision() -> None:
    hits = [hit("a", 0.55), hit("b", 0.1)]
    assert SCORE_ONLY.decide(hits, "ku").type is ReplyType.ANSWER
    assert SCORE_ONLY.decide(hits, "de").type is not ReplyType.ANSWER


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


def test_eval_table_and_facts() -> None:
    case = ChatCase(lang="de", question="q", in_scope=True, expected=frozenset({"a"}),
                    facts=("46 Euro",))
    oos = ChatCase(lang="de", question="w", in_scope=False, expected=frozenset())
    text = table([
        Outcome(case, ReplyType.ANSWER, Evidence.CONFIDENT, "a", (), True, False),
        Outcome(oos, ReplyType.ESCALATE, Evidence.NONE, None, (), True, False),
    ], with_facts=True)
    assert "with_facts" in text
    assert text.splitlines()[2].split()[:4] == ["de", "1", "1.00", "1.00"]
    assert contains_fact("Die Gebühr beträgt **46 Euro**.", "46 euro")
    assert contains_fact("Frist: zwei\nWochen", "zwei Wochen | 14 Tage")
    assert not contains_fact("Die Gebühr beträgt 37 Euro.", "46 Euro")
