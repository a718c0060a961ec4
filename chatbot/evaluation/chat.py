"""Chat policy quality: answer rate on in-domain questions, refusal rate out of scope.

In-domain rows: `{"lang", "question", "article_id", "split"}`; out-of-scope rows:
`{"lang", "question", "split"}`. Each question goes through language detection,
retrieval and `dialogue.policy.decide` exactly as a first chat message does.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from chatbot.dialogue.intents import asks_for_human
from chatbot.dialogue.policy import ReplyType, decide
from chatbot.language import SUPPORTED_LANGUAGES
from chatbot.search_service import SearchService


@dataclass(frozen=True)
class Outcome:
    lang: str
    in_domain: bool
    type: ReplyType
    right: bool
    """in-domain: answered with the expected article, or offered it among the choices."""


def read_rows(path: Path, split: str | None) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [r for r in rows if split is None or r.get("split") == split]


def classify(service: SearchService, question: str, expected: str | None) -> tuple[ReplyType, bool]:
    language = service.detect(question)
    if not language.supported:
        return ReplyType.UNSUPPORTED, False
    hits = service.search(question, top_k=5, lang=language.code).hits
    if asks_for_human(question):
        return ReplyType.ESCALATE, False
    decision = decide(hits)
    right = expected is not None and any(h.article_id == expected for h in decision.hits)
    return decision.type, right and decision.type in (ReplyType.ANSWER, ReplyType.CLARIFY)


def evaluate(service: SearchService, *, questions: Path, out_of_scope: Path,
             split: str | None = "dev") -> list[Outcome]:
    outcomes = evaluate_in_domain(service, read_rows(questions, split))
    for row in read_rows(out_of_scope, split):
        kind, _ = classify(service, row["question"], None)
        outcomes.append(Outcome(row["lang"], False, kind, False))
    return outcomes


SIB_LANGUAGES = {"deu_Latn": "de", "eng_Latn": "en", "fra_Latn": "fr", "ita_Latn": "it",
                 "pol_Latn": "pl", "tur_Latn": "tr", "kmr_Latn": "ku"}


def evaluate_sib(service: SearchService, *, sib_dir: Path, split: str = "dev") -> list[Outcome]:
    """SIB-200 news and science sentences in the 7 languages: all out of scope."""
    outcomes = []
    for name, lang in SIB_LANGUAGES.items():
        lines = (sib_dir / f"{name}.{split}.tsv").read_text(encoding="utf-8").splitlines()[1:]
        for line in lines:
            sentence = line.split("\t")[-1].strip()
            if sentence:
                kind, _ = classify(service, sentence, None)
                outcomes.append(Outcome(lang, False, kind, False))
    return outcomes


def evaluate_in_domain(service: SearchService, rows: list[dict[str, str]]) -> list[Outcome]:
    outcomes = []
    for row in rows:
        kind, right = classify(service, row["question"], row["article_id"])
        outcomes.append(Outcome(row["lang"], True, kind, right))
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    """Per language: in-domain answered right / clarified right / wrong answers, and
    out-of-scope refused (escalate or unsupported_language)."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[outcome.lang].append(outcome)
    langs = [lang for lang in SUPPORTED_LANGUAGES if lang in groups] + sorted(
        set(groups) - set(SUPPORTED_LANGUAGES))
    lines = ["lang  n_in  answer_right  clarify_right  answer_wrong  n_oos  oos_refused",
             "----  ----  ------------  -------------  ------------  -----  -----------"]

    def rate(part: int, whole: int) -> str:
        return f"{part / whole:.2f}" if whole else "-"

    for lang in [*langs, "all"]:
        rows = outcomes if lang == "all" else groups[lang]
        ind = [o for o in rows if o.in_domain]
        oos = [o for o in rows if not o.in_domain]
        answered = sum(o.type is ReplyType.ANSWER and o.right for o in ind)
        clarified = sum(o.type is ReplyType.CLARIFY and o.right for o in ind)
        wrong = sum(o.type is ReplyType.ANSWER and not o.right for o in ind)
        refused = sum(o.type in (ReplyType.ESCALATE, ReplyType.UNSUPPORTED) for o in oos)
        lines.append(f"{lang:<4}  {len(ind):>4}  {rate(answered, len(ind)):>12}  "
                     f"{rate(clarified, len(ind)):>13}  {rate(wrong, len(ind)):>12}  "
                     f"{len(oos):>5}  {rate(refused, len(oos)):>11}")
    return "\n".join(lines)
