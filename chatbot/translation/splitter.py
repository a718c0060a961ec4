"""A built-in sentence splitter, so argostranslate never needs (or downloads) one.

Argos splits its input into sentences with Stanza, spaCy or MiniSBD models that it
fetches from the internet when they are not inside the model package. Article lines
are short and their sentences end in ., ! or ?; a rule is enough.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? (optionally closed by a quote or bracket) followed by space
# and an upper-case letter; a full stop after a digit is an ordinal: "am 3. Oktober"
# or "ca. 5 Euro" stay together. An abbreviation before a capitalised word
# ("z. B. Ausweis") is split, which costs wording, not text.
_BOUNDARY = re.compile(r"(?<=[^\d][.!?]|\d[!?])[\"'»«”)\]]?\s+"
                       r"(?=[\"'»«„“(\[]?[A-ZÄÖÜÇĞİŞŁŚŹŻĆŃÓÊÎÛ])")


def split_sentences(text: str) -> list[str]:
    """The sentences of one line of text, their whitespace trimmed; never empty parts."""
    parts = [part.strip() for part in _BOUNDARY.split(text)]
    return [part for part in parts if part] or ([text.strip()] if text.strip() else [])


class BuiltinSentencizer:
    """Duck-types argostranslate's `ISentenceBoundaryDetectionModel`."""

    def split_sentences(self, text: str) -> list[str]:
        return split_sentences(text)
