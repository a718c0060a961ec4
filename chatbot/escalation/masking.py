"""Masking of personal identifiers in transcripts attached to tickets.

A transcript is what the citizen typed into the chat, which is often more than the
ticket needs: agents see e-mail addresses, phone numbers, IBANs, identity-document
numbers and other long numbers replaced by placeholders. Only the contact fields
the citizen filled in for the reply stay readable. The patterns deliberately err
towards masking: a masked house number costs less than a leaked IBAN.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

EMAIL_PLACEHOLDER = "[email]"
IBAN_PLACEHOLDER = "[iban]"
ID_PLACEHOLDER = "[id-number]"
PHONE_PLACEHOLDER = "[phone]"
NUMBER_PLACEHOLDER = "[number]"


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    placeholder: str
    accept: Callable[[str], bool] = lambda _match: True


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _looks_like_phone(text: str) -> bool:
    # Numbers dialled in Germany start with 0 (or +/00 abroad); this keeps years,
    # amounts and postcodes that happen to stand next to each other readable.
    stripped = text.lstrip("(")
    return stripped[:1] in ("+", "0") and _digit_count(text) >= 6


def _looks_like_document_number(text: str) -> bool:
    # German ID cards, passports and residence cards use 9 characters from a
    # vowel-free alphabet; requiring digits keeps ordinary consonant clusters.
    return _digit_count(text) >= 3


_RULES: tuple[_Rule, ...] = (
    _Rule(re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE),
          EMAIL_PLACEHOLDER),
    # Country code, check digits, then 11-30 characters, optionally in groups of four.
    _Rule(re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
                     re.IGNORECASE), IBAN_PLACEHOLDER),
    _Rule(re.compile(r"\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}\d?\b", re.IGNORECASE),
          ID_PLACEHOLDER, _looks_like_document_number),
    _Rule(re.compile(r"(?<![\w+])(?:\+|\(\s*)?\d[\d\s()/-]{4,}\d(?!\w)"),
          PHONE_PLACEHOLDER, _looks_like_phone),
    # Old ID cards (10 digits), tax IDs, account and customer numbers.
    _Rule(re.compile(r"(?<!\w)\d{7,}(?!\w)"), NUMBER_PLACEHOLDER),
)


def _replacer(rule: _Rule) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return rule.placeholder if rule.accept(match.group(0)) else match.group(0)

    return replace


def mask_text(text: str) -> str:
    for rule in _RULES:
        text = rule.pattern.sub(_replacer(rule), text)
    return text


def mask_transcript(lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of the transcript with every line's `text` masked."""
    return [{**line, "text": mask_text(str(line.get("text", "")))} for line in lines]
