"""Does the corpus fit the calendars file? Article departments must be ticket
departments, and `appointment_service` values must be calendars; otherwise the chat
would offer tickets and bookings that the API refuses."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from chatbot.escalation.calendars import Calendars


class ArticleLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def department(self) -> str: ...

    @property
    def appointment_service(self) -> str | None: ...


def corpus_calendar_mismatches(articles: Iterable[ArticleLike], calendars: Calendars
                               ) -> list[str]:
    """One message per unknown department or appointment service, naming its articles."""
    departments: dict[str, set[str]] = defaultdict(set)
    services: dict[str, set[str]] = defaultdict(set)
    for article in articles:
        if article.department not in calendars.departments:
            departments[article.department].add(article.id)
        if article.appointment_service and calendars.service(article.appointment_service) is None:
            services[article.appointment_service].add(article.id)
    problems = [f"department {name!r} of {_names(ids)} is not a ticket department: add it "
                "under `departments:` in the calendars file (CHATBOT_CALENDARS_FILE); until "
                "then the chat files such tickets without a department"
                for name, ids in sorted(departments.items())]
    problems += [f"appointment_service {name!r} of {_names(ids)} has no calendar in the "
                 "calendars file; until then the chat offers no booking for it"
                 for name, ids in sorted(services.items())]
    return problems


def _names(ids: set[str]) -> str:
    shown = sorted(ids)
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    return "article(s) " + ", ".join(shown[:3]) + more
