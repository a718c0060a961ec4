"""Follow-up questions: "und was kostet das?" is retrieved together with the topic."""

from __future__ import annotations

from chatbot.language import SUPPORTED_LANGUAGES
from chatbot.languages import load_languages
from chatbot.text import normalise

SHORT_WORDS = 5
"""A message of at most this many words is treated as a possible follow-up."""


def refers_back(message: str, lang: str | None = None) -> bool:
    """Short, or containing a word that points back (in `lang`'s list, or any language's)."""
    words = normalise(message).split()
    if len(words) <= SHORT_WORDS:
        return True
    languages = load_languages(SUPPORTED_LANGUAGES)
    candidates = [languages[lang]] if lang in languages else list(languages.values())
    return any(data.points_back(words) for data in candidates)


def retrieval_query(message: str, previous_question: str | None,
                    previous_title: str | None, lang: str | None = None) -> str:
    """The message, extended with the topic's article title and the question that set
    it, when the message is short or refers back."""
    if not (previous_question or previous_title) or not refers_back(message, lang):
        return message
    context = " ".join(part for part in (previous_title, previous_question) if part)
    return f"{message} {context}"
