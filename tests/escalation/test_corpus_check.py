"""Corpus departments and appointment services against the calendars file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chatbot.api.mappers import actions_public
from chatbot.dialogue.reply import AppointmentAction, HotlineAction, TicketAction
from chatbot.escalation.calendars import load_calendars
from chatbot.escalation.corpus_check import corpus_calendar_mismatches


@dataclass(frozen=True)
class Art:
    id: str
    department: str
    appointment_service: str | None = None


def test_the_shipped_corpus_fits_the_shipped_calendars() -> None:
    from chatbot.corpus import load_corpus
    from tests.conftest import CORPUS_DIR

    assert corpus_calendar_mismatches(load_corpus(CORPUS_DIR).articles, load_calendars()) == []


def test_unknown_departments_and_services_are_named_with_their_articles() -> None:
    problems = corpus_calendar_mismatches(
        [Art("kita", "jugendamt"), Art("kita-2", "jugendamt", "jugendamt"),
         Art("pass", "buergerservice", "buergerservice")], load_calendars())
    assert len(problems) == 2
    assert "department 'jugendamt' of article(s) kita, kita-2" in problems[0]
    assert "appointment_service 'jugendamt' of article(s) kita-2" in problems[1]


def test_the_chat_offers_only_what_the_apis_accept() -> None:
    actions = actions_public([
        TicketAction(department="jugendamt", topic="Kita", message="kita platz?"),
        AppointmentAction("jugendamt"), AppointmentAction("buergerservice"),
        HotlineAction(phone="02151 86-0", open=False, next_open=datetime(2026, 10, 12, tzinfo=UTC)),
    ], load_calendars())
    assert [a["kind"] for a in actions] == ["ticket", "appointment", "hotline"]
    assert actions[0]["department"] is None
    assert actions[0]["message"] == "kita platz?"
    assert actions[1]["service"] == "buergerservice"
