"""Follow-up questions: "und was kostet das?" is retrieved together with the previous topic."""

from __future__ import annotations

from chatbot.dialogue.intents import normalise

SHORT_WORDS = 5
"""A message of at most this many words is treated as a possible follow-up."""

_REFERS_BACK = frozenset({
    "das", "dies", "dafur", "dazu", "davon", "dort", "da", "es", "und", "auch",
    "that", "this", "it", "there", "for", "also", "and",
    "ca", "cela", "le", "la", "y", "en", "aussi", "et",
    "questo", "quello", "lo", "ci", "anche",
    "to", "tego", "tym", "tam", "tez", "a",
    "bu", "bunun", "onun", "orada", "icin", "de", "ev", "wê", "we", "vê", "ve", "ji", "jî", "ji bo",
})


def refers_back(message: str) -> bool:
    words = normalise(message).split()
    return len(words) <= SHORT_WORDS or any(w in _REFERS_BACK for w in words[:3])


def retrieval_query(message: str, previous_question: str | None,
                    previous_title: str | None) -> str:
    """The message, extended with the previous turn's question and article title when it
    is short or refers back."""
    if not (previous_question or previous_title) or not refers_back(message):
        return message
    context = " ".join(part for part in (previous_title, previous_question) if part)
    return f"{message} {context}"
