"""The translator interface and the route through the pivot language."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from chatbot.errors import ChatbotError

PIVOT_LANGUAGE = "en"
"""Where no direct model exists, translate into English and from English on."""

Pair = tuple[str, str]


class TranslationError(ChatbotError):
    """A translation could not be made."""


class TranslationUnavailableError(TranslationError):
    """The optional `translate` extra is not installed."""


class ModelFileError(TranslationError):
    """A model file that cannot be installed; the message says why."""


class Translator(Protocol):
    """Translates plain text along one installed language pair."""

    def pairs(self) -> frozenset[Pair]:
        """The (source, target) pairs a model is installed for."""
        ...

    def translate(self, text: str, *, source: str, target: str) -> str:
        """`text` (one line, no Markdown) translated; the pair must be installed."""
        ...


def find_route(pairs: Collection[Pair], source: str, target: str,
               pivot: str = PIVOT_LANGUAGE) -> list[Pair] | None:
    """The pairs to apply in turn: direct, or through the pivot; None without a route."""
    if (source, target) in pairs:
        return [(source, target)]
    if source != pivot and target != pivot and (source, pivot) in pairs \
            and (pivot, target) in pairs:
        return [(source, pivot), (pivot, target)]
    return None
