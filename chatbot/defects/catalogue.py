"""The categories a defect report can have.

With an Open311 endpoint: its service list (GET services.json), kept for
`open311_services_cache_seconds`; when the endpoint is down, the last list is used
rather than none, and the failure is remembered for `FAILURE_MEMORY_SECONDS`, so an
outage does not make every request wait for the endpoint's timeout. Without an
endpoint: the built-in categories, named per language in
`chatbot/languages/<lang>.yaml` (`defect_report.categories`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from chatbot.defects.client import Open311, Open311UnavailableError, Service
from chatbot.language import SUPPORTED_LANGUAGES
from chatbot.languages import load_languages
from chatbot.languages.registry import DEFECT_CATEGORIES as BUILTIN_CATEGORIES

FAILURE_MEMORY_SECONDS = 45.0


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    description: str = ""
    group: str = ""


class Catalogue:
    def __init__(self, client: Open311 | None, *, cache_seconds: float,
                 monotonic: Callable[[], float] = time.monotonic,
                 failure_seconds: float = FAILURE_MEMORY_SECONDS) -> None:
        self.client = client
        self.cache_seconds = cache_seconds
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._services: list[Service] | None = None
        self._fetched_at = 0.0
        self.failure_seconds = failure_seconds
        self._failed: tuple[float, str] | None = None
        """When the last read failed, and why."""

    @property
    def forwards(self) -> bool:
        """Reports go to an Open311 endpoint (else they become tickets)."""
        return self.client is not None

    def categories(self, lang: str) -> list[Category]:
        """Raises Open311UnavailableError when the endpoint is down and was never read."""
        if self.client is None:
            names = load_languages(SUPPORTED_LANGUAGES)[
                lang if lang in SUPPORTED_LANGUAGES else "de"].defect_report.categories
            return [Category(code=code, name=names[code]) for code in BUILTIN_CATEGORIES]
        return [Category(code=s.code, name=s.name, description=s.description, group=s.group)
                for s in self._endpoint_services()]

    def names(self, lang: str) -> dict[str, str]:
        return {category.code: category.name for category in self.categories(lang)}

    def _endpoint_services(self) -> list[Service]:
        assert self.client is not None
        with self._lock:
            fresh = (self._services is not None
                     and self.monotonic() - self._fetched_at < self.cache_seconds)
            if fresh and self._services is not None:
                return self._services
            if (self._failed is not None
                    and self.monotonic() - self._failed[0] < self.failure_seconds):
                if self._services is not None:
                    return self._services
                raise Open311UnavailableError(f"{self._failed[1]} (less than "
                                              f"{self.failure_seconds:g} s ago)")
        try:
            services = self.client.services()
        except Open311UnavailableError as exc:
            with self._lock:
                self._failed = (self.monotonic(), str(exc))
                if self._services is not None:
                    return self._services  # stale beats nothing during an outage
            raise
        with self._lock:
            self._services, self._fetched_at = services, self.monotonic()
            self._failed = None
        return services
