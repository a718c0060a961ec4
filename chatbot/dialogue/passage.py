"""The passage an answer quotes: the article's lead plus the whole section that matches.

Retrieval chunks are cut for embedding (about 600 characters), not for reading: a
chunk can end on "In general:" before the list it introduces, or be nothing but the
hotline line at the end of an article. An answer therefore quotes whole blocks of
the article (paragraphs, and lists together with the sentence that introduces them):
the lead (or the front matter's `summary`) and the best-matching section, cut only
between blocks, with a link to the rest when the section is long.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chatbot.retrieval import SectionScore
from chatbot.text import normalise

_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

MAX_SECTION_CHARS = 1500
"""A section longer than this is cut at a block boundary and links to the article (with
the right article, the blind train questions' facts were quoted in 0.856 of the cases
at 900, 0.881 at 1200, 0.890 at 1400; the reply grows by 6% from 900 to 1200). Re-measured
with three sections and the lead-repeat weight: 0.939 at 1200, 0.951 at 1500 and 1800
(replies 1,594 -> 1,630 characters on average)."""
MAX_SECTIONS = 4
"""A long question (several_sections) gets its four best sections, a short one the
section it asks about (two if it names two things). Blind train questions with the
right article, every asked fact quoted: two sections 0.860, three 0.893; the reply grows
from 1,200 to 1,550 characters on average (a third section for short questions too:
0.900 at 1,570; three sections sharing two sections' length: 0.880 at 1,470).
Re-measured at the fourteenth session (nine batches, with the lead, the short sections
and the weights below): three 516 of 552 (0.935), four 533 (0.966); answers grow from
1,802 to 2,188 characters on average. Four with short sections of up to 250 characters
riding along: 541 at 2,379; four sharing a smaller budget (600 characters each): 502 at
2,021; dropping the lead from long answers: 458."""
MAX_ASKED_SECTIONS = 3
"""Sections a question names (its fee, documents, ...) that are quoted at most, for a
short question too: one that names four things gets the three the registry lists first,
not most of the article."""
CONTACT_ONLY_CHARS = 220
"""A section this short that holds the hotline number is a contact line, never quoted
alone (every article ends with one), unless its heading is what the question asks for."""
LEXICAL_WEIGHT = 0.04
"""Section choice: dense cosine plus this times the chunk's relative BM25. Cosines of an
article's chunks differ by a few hundredths; the lexical part breaks ties towards the
section that names what was asked (fitted on the blind train questions' facts)."""


HEADING_WEIGHT = 0.02
"""Added times the share of a heading's words that the question names ("So reservieren
Sie" for "kann man ein Wunschkennzeichen reservieren"): a near tie of cosines goes to the
section the citizen named (blind train questions with the right article, facts quoted:
0.911 without, 0.921 at 0.01, 0.931 at 0.02, 0.921 at 0.04 to 0.16)."""


LEAD_REPEAT_WEIGHT = 0.04
"""Subtracted times the share of a section's words (4+ letters) that the quoted lead
already says: a "What is a WBS?" section mostly repeats the lead and wins on cosine
over the section with the asked detail (blind train questions with the right article,
every asked fact quoted: 0.908 without, 0.914 at 0.01, 0.920 at 0.02, 0.933 at 0.04,
0.914 at 0.06 to 0.08, 0.902 at 0.2)."""


SHORT_SECTION_CHARS = 150
"""A section shorter than this ("Fees: free of charge", "Processing time: about two
weeks") is quoted when it scores among the best without taking one of the MAX_SECTIONS
(or, for a short question, the one) places: such a section is often the one fact asked,
and costs a line. A section the question asks for takes its place whatever its length.
Blind train questions with the right article (batches 1-6), every asked fact quoted:
321 -> 327 of 351 (replies 1,681 -> 1,765 characters on average; letting an asked-for
short section ride along too: 330 at 1,813, and at 200 characters 334 at 1,976)."""
SHORT_SECTIONS_MAX = 2
"""Short sections that ride along at most: an article of many one-line sections is not
quoted whole."""


@dataclass(frozen=True)
class Section:
    heading: str
    """'' for the lead (the text before the first heading)."""
    blocks: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.blocks)


@dataclass(frozen=True)
class QuotedSection:
    heading: str
    text: str


@dataclass(frozen=True)
class Passage:
    lead: str
    sections: tuple[QuotedSection, ...]
    truncated: bool
    """A section was cut; the reply links to the rest."""

    @property
    def text(self) -> str:
        parts = [self.lead]
        parts += [f"**{s.heading}**\n\n{s.text}" if s.heading else s.text
                  for s in self.sections]
        return "\n\n".join(p for p in parts if p)

    @property
    def headings(self) -> list[str]:
        return [s.heading for s in self.sections]


SectionMatcher = Callable[[str, str], bool]
"""Whether a section (its heading, its text) answers something the question asks (e.g.
its fees)."""


def split_sections(body: str) -> list[Section]:
    """Sections in order, each as whole blocks; lists stay whole together with the
    paragraph that introduces them."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for heading, lines in _heading_runs(body):
        if heading is not None:
            sections.append((heading, []))
        sections[-1][1].extend(_blocks(lines))
    return [Section(h, tuple(b)) for h, b in sections if b]


def lead_of(sections: Sequence[Section], summary: str | None) -> str:
    """An article version's lead: its `summary`, else the text before its first heading
    (`sections` as `split_sections` gives them)."""
    if summary:
        return summary.strip()
    return sections[0].text if sections and not sections[0].heading else ""


def select_passage(body: str, scores: Sequence[SectionScore], *, summary: str | None = None,
                   asked: Sequence[SectionMatcher] = (), contact_marker: str | None = None,
                   include_lead: bool = True, several_sections: bool = False,
                   max_chars: int = MAX_SECTION_CHARS,
                   named: Callable[[str], float] | None = None,
                   contact: SectionMatcher | None = None) -> Passage:
    """The lead (or `summary`) and the section of `body` that answers the question.

    `scores` are the retrieval's per-chunk scores of this article version (chunks carry
    their section's heading). `asked` holds one matcher per thing the question asks
    about (fee, documents, ...): a section that answers one (by its heading, or for
    some aspects by its text) is preferred, and when the question asks about two
    things, both sections are quoted; with
    `several_sections` the best-scoring ones are quoted up to MAX_SECTIONS (a long
    question often asks two or three things that no word list names).
    `contact_marker` (the hotline number) marks contact-only sections, which are
    skipped unless nothing else is left. `named` gives the share of a heading's words
    that the question names (see HEADING_WEIGHT). Sections `contact` matches (the
    question asks whom to turn to) come along without taking a place: "who do I
    contact" still wants the section about the matter."""
    sections = split_sections(body)
    has_lead = bool(sections) and sections[0].heading == ""
    lead = lead_of(sections, summary)
    others = sections[1:] if has_lead else sections
    # A short "Fees" section that sends to the hotline for the amount is still what a fee
    # question asks for: only sections nobody asked for count as contact lines.
    candidates = [s for s in others if not _contact_only(s, contact_marker)
                  or any(matcher(s.heading, s.text) for matcher in asked)] or others
    if not candidates:
        return Passage(lead=lead, sections=(), truncated=False)
    lead_words = _content_words(lead) if include_lead else frozenset()

    def score(section: Section) -> float:
        return (_section_score(section, scores, named)
                - LEAD_REPEAT_WEIGHT * _share_in(section.text, lead_words))

    chosen: list[Section] = []
    for matcher in asked:
        answering = [s for s in candidates if matcher(s.heading, s.text) and s not in chosen]
        if answering:
            chosen.append(max(answering, key=score))
    by_score = sorted(candidates, key=lambda s: (-score(s), candidates.index(s)))
    chosen = chosen[:MAX_ASKED_SECTIONS]
    wanted = MAX_SECTIONS if several_sections else 1
    # A section asked for takes a place whatever its length; of the others, a short one
    # rides along (at most SHORT_SECTIONS_MAX of them).
    taken, riders = len(chosen), 0
    for section in by_score:
        if taken >= wanted:
            break
        if section in chosen:
            continue
        if len(section.text) >= SHORT_SECTION_CHARS:
            taken += 1
        elif riders < SHORT_SECTIONS_MAX:
            riders += 1
        else:
            continue
        chosen.append(section)
    if contact is not None:
        chosen += [s for s in others if contact(s.heading, s.text) and s not in chosen]
    chosen = sorted(chosen, key=others.index)
    # Each of several sections that are not short gets a little more than half: most
    # are short; a short one needs no budget.
    long_sections = sum(len(s.text) >= SHORT_SECTION_CHARS for s in chosen)
    budget = max_chars if long_sections <= 1 else max_chars // 2 + 150
    quoted, truncated = [], False
    for section in chosen:
        text, cut = _cut(section.blocks, budget)
        quoted.append(QuotedSection(section.heading, text))
        truncated = truncated or cut
    return Passage(lead=lead if include_lead else "", sections=tuple(quoted),
                   truncated=truncated)


def _section_score(section: Section, scores: Sequence[SectionScore],
                   named: Callable[[str], float] | None = None) -> float:
    matching = [s.dense + LEXICAL_WEIGHT * s.lexical for s in scores
                if s.heading == section.heading]
    best = max(matching, default=-1.0)
    if named is not None and section.heading:
        best += HEADING_WEIGHT * named(section.heading)
    return best


def _content_words(text: str) -> frozenset[str]:
    return frozenset(word for word in normalise(text).split() if len(word) >= 4)


def _share_in(text: str, words: frozenset[str]) -> float:
    own = _content_words(text)
    return len(own & words) / len(own) if own else 0.0


def _contact_only(section: Section, marker: str | None) -> bool:
    return (marker is not None and marker in section.text
            and len(section.text) <= CONTACT_ONLY_CHARS)


def _cut(blocks: tuple[str, ...], max_chars: int) -> tuple[str, bool]:
    """Whole blocks up to `max_chars`; a first block that alone is longer is cut between
    list items or sentences."""
    kept: list[str] = []
    size = 0
    for block in blocks:
        if kept and size + len(block) > max_chars:
            return "\n\n".join(kept), True
        if not kept and len(block) > max_chars:
            return _cut_block(block, max_chars), True
        kept.append(block)
        size += len(block) + 2
    return "\n\n".join(kept), False


def _cut_block(block: str, max_chars: int) -> str:
    lines = block.split("\n")
    if len(lines) > 1:
        kept = [lines[0]]
        for line in lines[1:]:
            if len("\n".join([*kept, line])) > max_chars and len(kept) > 1:
                break
            kept.append(line)
        return "\n".join(kept)
    sentences = _SENTENCE_END.split(block)
    kept = [sentences[0]]
    for sentence in sentences[1:]:
        if len(" ".join([*kept, sentence])) > max_chars:
            break
        kept.append(sentence)
    return " ".join(kept)


def _heading_runs(body: str) -> list[tuple[str | None, list[str]]]:
    """(heading or None for the lead, the lines under it)."""
    runs: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in body.splitlines():
        match = _HEADING.match(line)
        if match:
            runs.append((match.group(1).strip(), []))
        else:
            runs[-1][1].append(line.rstrip())
    return runs


def _blocks(lines: list[str]) -> list[str]:
    """Paragraphs and lists; a list separated by blank lines stays one block, and a
    paragraph ending in ':' is joined to the list that follows it."""
    raw: list[list[str]] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line)
        elif current:
            raw.append(current)
            current = []
    blocks: list[str] = []
    previous_ends_in_list = False
    for paragraph in raw:
        starts_list = bool(_LIST_ITEM.match(paragraph[0]))
        text = "\n".join(paragraph).strip()
        if blocks and starts_list and (previous_ends_in_list or blocks[-1].endswith(":")):
            blocks[-1] = f"{blocks[-1]}\n\n{text}"
        else:
            blocks.append(text)
        last = paragraph[-1]
        previous_ends_in_list = bool(_LIST_ITEM.match(last)) or (
            last[:1] in (" ", "\t") and any(_LIST_ITEM.match(line) for line in paragraph))
    return blocks
