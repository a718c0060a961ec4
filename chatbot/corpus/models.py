"""Typed articles as the rest of the service sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from chatbot.languages import SUPPORTED_LANGUAGES

# The corpus languages; German is the source of every translation.
LANGUAGES: tuple[str, ...] = SUPPORTED_LANGUAGES
SOURCE_LANGUAGE = "de"


@dataclass(frozen=True)
class Article:
    """One language version of a knowledge-base article."""

    id: str
    lang: str
    title: str
    department: str
    updated: date
    body: str
    path: str
    url: str | None = None
    keywords: tuple[str, ...] = ()
    appointment_service: str | None = None
    source_revision: date | None = None
    summary: str | None = None
    """One or two sentences that answer the common question; quoted before the section."""
    machine_translated: bool = False
    """A machine-translated draft (`chatbot translate missing`), not yet reviewed."""

    @property
    def key(self) -> str:
        return f"{self.id}.{self.lang}"


@dataclass(frozen=True)
class CorpusIssue:
    """A file that was skipped, and why, in words an editor can act on."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class CorpusLoad:
    articles: list[Article] = field(default_factory=list)
    issues: list[CorpusIssue] = field(default_factory=list)
