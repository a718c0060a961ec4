"""Optional offline machine translation of missing or stale article versions.

Curated translations are the default. With the `translate` extra installed and model
files installed by the operator (`chatbot translate install-model`), `chatbot translate
missing` writes machine-translated drafts. Nothing here ever touches the network.
"""

from chatbot.translation.base import (
    PIVOT_LANGUAGE,
    ModelFileError,
    TranslationError,
    TranslationUnavailableError,
    Translator,
    find_route,
)

__all__ = ["PIVOT_LANGUAGE", "ModelFileError", "TranslationError",
           "TranslationUnavailableError", "Translator", "find_route"]
