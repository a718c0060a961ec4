"""Masking of personal identifiers in what citizens type.

A citizen's chat message, feedback comment or ticket text is often more than the
service needs: what is stored or logged outside a ticket's contact fields has e-mail
addresses, phone numbers, IBANs, identity-document numbers and other long numbers
replaced by placeholders. Only the contact fields the citizen filled in for the reply
stay readable. The patterns deliberately err towards masking: a masked house number
costs less than a leaked IBAN.

The city's own contact details are not personal data: a `keep` set (see
`city_contacts`) names the phone numbers and e-mail addresses that stay readable, such
as the hotline number from the settings or a number the service itself wrote in the
chat. They are compared by their digits (or lower-cased address), one set lookup per
match, so keeping them costs nothing in running time.

Every pattern runs in linear time (an 800 KB hostile transcript takes well under a
second), so callers mask before they open a transaction, never inside one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

EMAIL_PLACEHOLDER = "[email]"
IBAN_PLACEHOLDER = "[iban]"
ID_PLACEHOLDER = "[id-number]"
PHONE_PLACEHOLDER = "[phone]"
NUMBER_PLACEHOLDER = "[number]"

# The roles whose messages a citizen typed; the assistant's are composed from the
# knowledge base and settings (the hotline's own number must stay readable there).
CITIZEN_ROLES = frozenset({"citizen"})


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


_LOCAL_CHAR = r"[\w.!#$%&'*+/=?^`{|}~-]"

_RULES: tuple[_Rule, ...] = (
    # Starts only where a run of local-part characters starts (the look-behind): tried
    # from every position inside a long run, the pattern re-scanned the rest of the run
    # each time (quadratic; 800 KB took 20 s). Possessive quantifiers never give back
    # what they took: none of these character sets contains the character that follows.
    _Rule(re.compile(rf"(?<!{_LOCAL_CHAR}){_LOCAL_CHAR}++@[\w-]++(?:\.[\w-]++)+"),
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


# The rules whose matches can be the city's own contact details.
_CONTACT_PLACEHOLDERS = frozenset({EMAIL_PLACEHOLDER, PHONE_PLACEHOLDER})


def contact_key(text: str) -> str:
    """What identifies a phone number or e-mail address however it is written:
    "02151 86-0" and "02151/860" are the same number."""
    if "@" in text:
        return text.lower()
    return "".join(ch for ch in text if ch.isdigit())


def city_contacts(*texts: str) -> frozenset[str]:
    """The keys of every phone number and e-mail address in `texts` (the service's own
    words, the hotline setting): a `keep` set for `mask_text`."""
    keys: set[str] = set()
    for text in texts:
        for rule in _RULES:
            if rule.placeholder in _CONTACT_PLACEHOLDERS:
                keys.update(contact_key(m.group(0)) for m in rule.pattern.finditer(text)
                            if rule.accept(m.group(0)))
    keys.discard("")
    return frozenset(keys)


def _replacer(rule: _Rule, keep: Collection[str]) -> Callable[[re.Match[str]], str]:
    kept = keep if rule.placeholder in _CONTACT_PLACEHOLDERS else ()

    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        if not rule.accept(found) or (kept and contact_key(found) in kept):
            return found
        return rule.placeholder

    return replace


def mask_text(text: str, *, keep: Collection[str] = ()) -> str:
    """`text` with personal identifiers replaced; phone numbers and addresses whose
    `contact_key` is in `keep` (the city's own) stay."""
    for rule in _RULES:
        text = rule.pattern.sub(_replacer(rule, keep), text)
    return text


def mask_transcript(lines: Iterable[dict[str, Any]], *, roles: Collection[str] | None = None,
                    keep: Collection[str] = ()) -> list[dict[str, Any]]:
    """A copy of the transcript with the `text` of every line (or of the lines whose
    `role` is in `roles`) masked, but for the contacts in `keep`."""
    return [{**line, "text": mask_text(str(line.get("text", "")), keep=keep)}
            if roles is None or line.get("role") in roles else dict(line)
            for line in lines]
