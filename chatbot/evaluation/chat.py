"""Chat quality: each question goes through the production dialogue as a first message.

Three kinds of rows, one reader:
- in-domain questions `{"lang", "question", "article_id", "split"}`
  (`tests/data/questions.jsonl`);
- blind questions `{"lang", "question", "in_scope", "article_id" | null, "facts",
  "split"}` (`tests/data/blind_questions.jsonl`): written by someone who had not read
  the articles; an answer counts as answering only if its text contains every
  expected fact (any alternative of "a | b");
- out-of-scope questions `{"lang", "question", "split"}` and SIB-200 sentences.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from chatbot.dialogue.core import Dialogue
from chatbot.dialogue.hotline import Hotline
from chatbot.dialogue.policy import Evidence, ReplyType
from chatbot.dialogue.reply import Reply, TicketAction
from chatbot.errors import DatasetError
from chatbot.evaluation.sib import SIB_LANGUAGES, read_sib_texts
from chatbot.language import SUPPORTED_LANGUAGES
from chatbot.retrieval.service import SearchService
from chatbot.text import fold

# A Saturday: the hotline is closed, as it is whenever the chat matters most.
EVALUATED_AT = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ChatCase:
    lang: str
    question: str
    in_scope: bool
    expected: frozenset[str]
    """Articles that answer it; empty when none does (out of scope, or unanswerable)."""
    facts: tuple[str, ...] = ()
    split: str | None = None


@dataclass(frozen=True)
class Outcome:
    case: ChatCase
    type: ReplyType
    evidence: Evidence
    article_id: str | None
    choices: tuple[str, ...]
    facts_found: bool
    department_offered: bool

    @property
    def answered_right(self) -> bool:
        return self.type is ReplyType.ANSWER and self.article_id in self.case.expected

    @property
    def answered_wrong(self) -> bool:
        return self.type is ReplyType.ANSWER and self.article_id not in self.case.expected

    @property
    def clarified_right(self) -> bool:
        return self.type is ReplyType.CLARIFY and bool(self.case.expected & set(self.choices))

    @property
    def refused(self) -> bool:
        """Out of scope handled politely: no answer, no choice list, no department."""
        return (self.type in (ReplyType.ESCALATE, ReplyType.UNSUPPORTED)
                and not self.department_offered)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc


def read_cases(path: Path, split: str | None = None) -> list[ChatCase]:
    cases = []
    for number, line in enumerate(_read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        if split is not None and row.get("split") != split:
            continue
        article = row.get("article_id")
        expected = frozenset([article, *row.get("also_ok", [])]) if article else frozenset()
        cases.append(ChatCase(lang=row["lang"], question=row["question"],
                              in_scope=bool(row.get("in_scope", article is not None)),
                              expected=expected, facts=tuple(row.get("facts", ())),
                              split=row.get("split")))
    return cases


def read_sib(sib_dir: Path, split: str = "dev", limit: int | None = None) -> list[ChatCase]:
    """SIB-200 news and science sentences in the 7 languages: all out of scope."""
    cases = []
    for stem, lang in SIB_LANGUAGES.items():
        if lang is None:
            continue
        sentences = read_sib_texts(sib_dir, stem, split)
        cases += [ChatCase(lang=lang, question=s, in_scope=False, expected=frozenset(),
                           split=split) for s in sentences[:limit] if s]
    return cases


def contains_fact(text: str, fact: str) -> bool:
    """Whether a reply contains a fact ("a | b": either), ignoring case, accents,
    Markdown emphasis and line breaks."""
    plain = " ".join(fold(text.replace("*", "")).split())
    return any(" ".join(fold(alt.replace("*", "")).split()) in plain
               for alt in fact.split(" | "))


def run_case(dialogue: Dialogue, search: SearchService, case: ChatCase,
             hotline: Hotline) -> Outcome:
    language = search.detect(case.question)
    reply: Reply = dialogue.respond(case.question, language, [],
                                    hotline.status(EVALUATED_AT),
                                    lambda article_id, lang: f"/articles/{article_id}")
    article = reply.topic.article_id if reply.topic and reply.type is ReplyType.ANSWER else None
    return Outcome(
        case=case, type=reply.type, evidence=reply.evidence, article_id=article,
        choices=tuple(c.article_id for c in reply.choices),
        facts_found=all(contains_fact(reply.text, f) for f in case.facts),
        department_offered=any(isinstance(a, TicketAction) and a.department
                               for a in reply.actions))


def evaluate(dialogue: Dialogue, search: SearchService, cases: Iterable[ChatCase],
             hotline: Hotline | None = None) -> list[Outcome]:
    hotline = hotline or Hotline()
    return [run_case(dialogue, search, case, hotline) for case in cases]


def table(outcomes: list[Outcome], *, with_facts: bool = False) -> str:
    """Per language: in-scope questions answered right (and, for blind questions, with
    the asked facts), clarified with the right article among the choices, answered
    wrongly; out-of-scope questions refused politely (no answer, no choice list, no
    department), and how many of those got the plain out-of-scope reply."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[outcome.case.lang].append(outcome)
    langs = [lang for lang in SUPPORTED_LANGUAGES if lang in groups] + sorted(
        set(groups) - set(SUPPORTED_LANGUAGES))
    columns = ["lang", "n_in", "answer_right"]
    if with_facts:
        columns.append("with_facts")
    columns += ["clarify_right", "answer_wrong", "n_unanswerable", "n_oos", "oos_refused",
                "oos_plain"]
    lines = ["  ".join(columns), "  ".join("-" * len(c) for c in columns)]

    def rate(part: int, whole: int) -> str:
        return f"{part / whole:.2f}" if whole else "-"

    for lang in [*langs, "all"]:
        rows = outcomes if lang == "all" else groups[lang]
        answerable = [o for o in rows if o.case.in_scope and o.case.expected]
        unanswerable = [o for o in rows if o.case.in_scope and not o.case.expected]
        oos = [o for o in rows if not o.case.in_scope]
        values = [lang, str(len(answerable)),
                  rate(sum(o.answered_right for o in answerable), len(answerable))]
        if with_facts:
            values.append(rate(sum(o.answered_right and o.facts_found for o in answerable),
                               len(answerable)))
        values += [rate(sum(o.clarified_right for o in answerable), len(answerable)),
                   rate(sum(o.answered_wrong for o in answerable), len(answerable)),
                   str(len(unanswerable)), str(len(oos)),
                   rate(sum(o.refused for o in oos), len(oos)),
                   rate(sum(o.refused and o.evidence is Evidence.NONE for o in oos), len(oos))]
        lines.append("  ".join(v.rjust(len(c)) for v, c in zip(values, columns, strict=True)))
    return "\n".join(lines)
