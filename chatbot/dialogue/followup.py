"""Follow-up questions: "und was kostet das?" is retrieved together with the previous topic."""

from __future__ import annotations

from chatbot.dialogue.intents import normalise

SHORT_WORDS = 5
"""A message of at most this many words is treated as a possible follow-up."""

# Words that point back to the previous topic even in a longer message. Articles and
# prepositions that look like pronouns in another language ("das Wetter", "la carte",
# "de", "a") are left out: a long new question must not inherit the old topic.
_REFERS_BACK = frozenset({
    "dies", "dafur", "dazu", "davon", "dort", "darauf", "dabei", "auch",
    "that", "this", "it", "there", "also",
    "cela", "ca", "aussi",
    "questo", "quello", "anche",
    "tego", "tym", "tam", "tez",
    "bunun", "onun", "orada", "wê", "vê", "jî",
})


def refers_back(message: str) -> bool:
    words = normalise(message).split()
    return len(words) <= SHORT_WORDS or any(w in _REFERS_BACK for w in words)


def retrieval_query(message: str, previous_question: str | None,
                    previous_title: str | None) -> str:
    """The message, extended with the previous turn's question and article title when it
    is short or refers back."""
    if not (previous_question or previous_title) or not refers_back(message):
        return message
    context = " ".join(part for part in (previous_title, previous_question) if part)
    return f"{message} {context}"
