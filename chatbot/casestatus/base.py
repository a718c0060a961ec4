"""The connector contract's types and the parsing of what citizens type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from chatbot.errors import ChatbotError, ConfigurationError

CASE_STATES: tuple[str, ...] = ("in_progress", "ready_for_pickup", "handed_out")
CASE_KINDS: tuple[str, ...] = ("personalausweis", "reisepass")
MAX_APPLICATION_NUMBER_CHARS = 40


class ConnectorUnavailableError(ChatbotError):
    """The departmental system cannot be reached or read right now."""


class CaseStatusConfigurationError(ConfigurationError):
    """The departmental export is malformed (the message names the file and line)."""


@dataclass(frozen=True)
class CaseState:
    state: str
    """One of `CASE_STATES`."""
    date: date
    """Since when the case is in this state."""
    kind: str
    """One of `CASE_KINDS`."""


class CaseStatusConnector(Protocol):
    def lookup(self, application_number: str, date_of_birth: date) -> CaseState | None:
        """The case's state when number and date of birth match; None otherwise (the
        same None for an unknown number and a wrong date of birth). Raises
        ConnectorUnavailableError when the system cannot be reached."""
        ...


def normalise_application_number(value: str) -> str:
    """Case, spaces and hyphens do not matter: "a 123-456" is "A123456"."""
    return re.sub(r"[\s\-]+", "", value).upper()


_DATE_PATTERNS = (
    re.compile(r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
)


def parse_date_of_birth(text: str) -> date | None:
    """DD.MM.YYYY, D.M.YYYY or YYYY-MM-DD, nothing else; None when not a real date."""
    value = text.strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(value)
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                return None
    return None


_DATE_IN_TEXT = re.compile(
    r"(?<![\d.-])(\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{1,2}-\d{1,2})(?![\d.-]*\d)")
_NUMBER_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{3,}")


def parse_number_and_date(text: str) -> tuple[str, date] | None:
    """An application number and a date of birth from one message ("A123456 01.02.1990",
    "Nr. 1990-55 geb. 1990-02-01"): the date first, then the first remaining token of
    4+ letters/digits that holds a digit. None unless both are there."""
    found = _DATE_IN_TEXT.search(text)
    if found is None:
        return None
    birth = parse_date_of_birth(found.group(1))
    if birth is None:
        return None
    rest = text[:found.start()] + " " + text[found.end():]
    for token in _NUMBER_TOKEN.findall(rest):
        if any(ch.isdigit() for ch in token):
            return token, birth
    return None
