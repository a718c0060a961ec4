"""Small talk and requests for a person, from the per-language word lists.

Small talk (greeting, thanks, goodbye) is recognised only when the whole message is
short and consists of such words, so "Hallo, ich brauche einen Pass" is a question.
Both look at every supported language's words: "merci" after a German question is
still thanks.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache

from chatbot.language import SUPPORTED_LANGUAGES
from chatbot.languages import LanguageData, load_languages
from chatbot.text import normalise

SMALL_TALK_MAX_WORDS = 5


class SmallTalk(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"


@cache
def _phrases() -> tuple[dict[SmallTalk, tuple[str, ...]], frozenset[str]]:
    languages: list[LanguageData] = list(load_languages(SUPPORTED_LANGUAGES).values())
    kinds = {kind: tuple(sorted({normalise(p) for data in languages
                                 for p in getattr(data.small_talk, kind.value)},
                                key=len, reverse=True))
             for kind in SmallTalk}
    fillers = frozenset(normalise(w) for data in languages for w in data.small_talk.filler)
    return kinds, fillers


def small_talk(text: str) -> SmallTalk | None:
    """The small-talk kind when the message is nothing but a greeting/thanks/goodbye."""
    norm = normalise(text)
    if not norm or len(norm.split()) > SMALL_TALK_MAX_WORDS:
        return None
    phrases, fillers = _phrases()
    found: SmallTalk | None = None
    rest = f" {norm} "
    # Thanks before greetings: "spas" is both in Kurmanji, and a thank-you is meant.
    for kind in (SmallTalk.THANKS, SmallTalk.GOODBYE, SmallTalk.GREETING):
        for phrase in phrases[kind]:
            if f" {phrase} " in rest:
                rest = rest.replace(f" {phrase} ", " ")
                found = found or kind
    if found is None:
        return None
    leftover = [w for w in rest.split() if w not in fillers]
    return found if not leftover else None


def asks_for_human(text: str) -> bool:
    """The citizen asks for a person, a callback or their case status."""
    return any(data.requests_person(text)
               for data in load_languages(SUPPORTED_LANGUAGES).values())


def complains(text: str) -> bool:
    """The citizen complains (in any language's words: "şikayet" is Kurmanji too)."""
    return any(data.complains(text) for data in load_languages(SUPPORTED_LANGUAGES).values())


def asks_case_status(text: str) -> bool:
    """The citizen asks whether their own ID card or passport is ready."""
    return any(data.asks_case_status(text)
               for data in load_languages(SUPPORTED_LANGUAGES).values())


def reports_defect(text: str, lang: str | None = None) -> bool:
    """The citizen reports something broken in public space (street light, pothole,
    illegal dumping, playground, graffiti, ...). With the message's language, only its
    cues and German ones (the official terms citizens type in any language) count:
    another language's cue can be an ordinary word here (Italian "buche", potholes, in
    German "buchen"). SIB-200 news sentences recognised as reports: train 15 of 4,907
    with every language's cues, 12 with these (articles about graffiti, golf's "buche");
    dev 1 of 693, then 0."""
    codes = SUPPORTED_LANGUAGES if lang is None else tuple(dict.fromkeys((lang, "de")))
    languages = load_languages(SUPPORTED_LANGUAGES)
    return any(languages[code].reports_defect(text) for code in codes if code in languages)


_REPORT_ID = re.compile(r"\b(?:[A-Za-z]{1,4}-\d{4}-\d{1,9}|[A-Za-z0-9-]*\d[A-Za-z0-9-]*)\b")


def asks_defect_status(text: str) -> bool:
    """The citizen asks how their defect report is getting on ("Status meiner Meldung 123")."""
    return any(data.asks_defect_status(text)
               for data in load_languages(SUPPORTED_LANGUAGES).values())


def report_id(text: str) -> str | None:
    """The report's number in a status question: a reference such as MD-2026-000012 or
    the endpoint's service request id (the first token with a digit)."""
    found = _REPORT_ID.search(text)
    return found.group(0).upper() if found else None
