"""Per-language data in one place: `<code>.yaml` beside this module.

Each file holds what the dialogue needs to know about a language that a model does not
tell it: which words in a question ask for a fee, documents or a deadline, and which
article headings answer that; how citizens ask for an appointment or a person, and
whether their own ID card or passport is ready (case status); greetings,
thanks and goodbyes; words that point back to the previous topic; weekday names for the
hotline's opening times; the letters and function words that help language detection; how
BM25 analyses its words (stemmer or prefix, stop words). Adding a language
means adding a file (plus its prompts and widget strings); `load_language` fails
loudly, naming the file, when one is missing or malformed.
"""

SUPPORTED_LANGUAGES: tuple[str, ...] = ("de", "en", "fr", "it", "pl", "tr", "ku")
"""The one list of languages the service answers in (German first: the source of every
translation). Each needs `<code>.yaml` here, `prompts/<code>/` and
`web_widget/i18n/<code>.json`; start-up checks all three."""

from chatbot.languages.registry import (  # noqa: E402
    Aspect,
    LanguageData,
    LanguageDataError,
    SmallTalkCues,
    concepts_named,
    load_language,
    load_languages,
    matches_cues,
    without_words,
)

__all__ = ["SUPPORTED_LANGUAGES", "Aspect", "LanguageData", "LanguageDataError",
           "SmallTalkCues", "concepts_named", "load_language", "load_languages", "matches_cues",
           "without_words"]
