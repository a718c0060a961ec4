"""The one text normaliser for matching words typed on a phone against word lists."""

from __future__ import annotations

import re
import unicodedata

_SPECIAL = str.maketrans({"ß": "ss", "ı": "i", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe",
                          "đ": "d", "þ": "th"})
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lowercase and strip accents: 'Führerschein' -> 'fuhrerschein'."""
    lowered = text.lower().translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise(text: str) -> str:
    """Folded words separated by single spaces, without punctuation."""
    return " ".join(_WORD.findall(fold(text)))
