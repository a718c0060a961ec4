"""The clauses of a message, for focusing a weak match on what the message asks.

Citizens type the circumstances around their question ("I am asylum seeker living in
krefeld, my money didnt come this month. who do i contact"): the whole message embeds
as a blend, and an article that matches it only weakly can match one clause of it
with confidence.
"""

from __future__ import annotations

import re

_CLAUSE_END = re.compile(r"[,.;:?!]+(?:\s+|$)|\s*\n+\s*|\s+[-–—]\s+")
CLAUSE_MIN_WORDS = 4
"""Shorter pieces are no question of their own ("hi", "24 yasindayim"), and a
three-word clause matches too much with confidence: on the train splits, 3 words
focused one more blind question right than 4, but answered one out-of-scope question
("gdzie jest najblizszy polski konsulat, musze wyrobic paszport") and one project
question wrongly ("bavê min mir, ez çi bikim?" -> paternity)."""


def split_clauses(message: str) -> list[str]:
    """The message's distinct clauses of at least CLAUSE_MIN_WORDS words, split at
    punctuation followed by a space, line breaks and dashes; [] when it has fewer than
    two (a one-clause message is its own focus). An abbreviation ("z. B.") splits too:
    a piece too short is dropped, a longer one is still searched as it stands."""
    pieces = [p.strip() for p in _CLAUSE_END.split(message)]
    clauses = list(dict.fromkeys(p for p in pieces if len(p.split()) >= CLAUSE_MIN_WORDS))
    return clauses if len(clauses) >= 2 else []
