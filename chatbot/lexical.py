"""Lexical analysis for BM25: accent folding plus a light per-language normalisation.

Folding makes "Fuehrerschein", "Führerschein" and "fuhrerschein" meet, and Turkish
dotless i or Kurmanji circumflexes typed without accents still match. Snowball
stemmers exist for de, en, fr, it and tr; Polish and Kurmanji have none, so their
words are cut to a prefix, which conflates most inflected forms of a stem.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

_SNOWBALL = {"de": "german", "en": "english", "fr": "french", "it": "italian", "tr": "turkish"}
_PREFIX_LANGUAGES = {"pl": 6, "ku": 6}
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# Letters that NFKD does not decompose into base + accent.
_SPECIAL = str.maketrans({"ß": "ss", "ı": "i", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe",
                          "đ": "d", "þ": "th"})
_STOPWORDS = frozenset(
    """
    der die das den dem des ein eine einen einem einer und oder ich du sie er es wir ihr mich
    mir wie was wo wann ist sind bin hat habe haben kann muss zu im in am an auf fur mit von
    bei the a an and or i you he she we they my is are am do does how what where when can to
    of in on for with at it le la les un une des et ou je tu il elle nous vous est sont que
    qui comment ou quand pour avec de du au aux il lo gli una uno e o io che come dove quando
    per con di da del della sono i w z na do jak co gdzie kiedy jest sa czy sie nie to ve bir
    ne nasil nerede zaman icin ile mi mu bu ben sen o da de u an ji bi di ez tu ew em we ka ci
    kengi li ye e bo
    """.split()
)


def fold(text: str) -> str:
    """Lowercase and strip accents: 'Führerschein' -> 'fuhrerschein'."""
    lowered = text.lower().translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=8)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


def analyze(text: str, lang: str | None) -> list[str]:
    """Index or query terms for `text` in language `lang` (None: folding only)."""
    # Umlauts typed as digraphs ("fuehrerschein") are folded like the umlaut itself.
    folded = fold(text)
    tokens = [t for t in _TOKEN.findall(folded) if t not in _STOPWORDS]
    if lang == "de":
        tokens = [t.replace("ae", "a").replace("oe", "o").replace("ue", "u") for t in tokens]
    if lang in _SNOWBALL:
        return [str(t) for t in _stemmer(_SNOWBALL[lang]).stemWords(tokens)]
    if lang in _PREFIX_LANGUAGES:
        length = _PREFIX_LANGUAGES[lang]
        return [t[:length] for t in tokens]
    return tokens
