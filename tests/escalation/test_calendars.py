"""Calendars from YAML: opening hours, holidays of North Rhine-Westphalia, slots."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from chatbot.errors import ConfigurationError
from chatbot.escalation.calendars import Calendars, load_calendars
from chatbot.escalation.clock import CITY_TIMEZONE

SERVICES = {"buergerservice", "standesamt", "auslaenderbehoerde", "zulassungsstelle",
            "fuehrerscheinstelle", "ordnungsamt", "gesundheit", "wohngeld", "soziales", "bauen"}
CORPUS = Path(__file__).resolve().parents[2] / "knowledge_corpus"


def test_the_bundled_file_has_exactly_the_city_services(calendars: Calendars) -> None:
    assert set(calendars.services) == SERVICES


def test_every_appointment_service_named_in_the_corpus_has_a_calendar(
        calendars: Calendars) -> None:
    named = {line.split(":", 1)[1].strip()
             for path in CORPUS.rglob("*.md")
             for line in path.read_text(encoding="utf-8").splitlines()
             if line.startswith("appointment_service:")}
    assert named, "the corpus names no appointment services"
    assert named <= set(calendars.services)


def test_every_corpus_department_can_receive_tickets(calendars: Calendars) -> None:
    departments = {path.parent.name for path in CORPUS.rglob("*.md")}
    assert departments <= set(calendars.departments)


def test_a_working_day_is_cut_into_slots_of_the_configured_length(
        calendars: Calendars) -> None:
    service = calendars.services["buergerservice"]
    slots = list(calendars.slots_on(service, date(2026, 10, 5)))  # Monday, 08:00-16:00
    assert len(slots) == 8 * 60 // 15
    assert slots[0].local_start.time() == time(8, 0)
    assert slots[-1].end.astimezone(CITY_TIMEZONE).time() == time(16, 0)
    assert all(s.capacity == 6 for s in slots)


def test_services_are_closed_on_days_without_hours(calendars: Calendars) -> None:
    bauen = calendars.services["bauen"]  # Tuesday and Thursday only
    assert list(calendars.slots_on(bauen, date(2026, 10, 5))) == []
    assert [s.local_start.time() for s in calendars.slots_on(bauen, date(2026, 10, 8))] == [
        time(9), time(10), time(11), time(14), time(15)]


@pytest.mark.parametrize(("day", "why"), [
    (date(2026, 6, 4), "Fronleichnam, a holiday in NRW but not in every state"),
    (date(2026, 12, 25), "Christmas"),
    (date(2026, 12, 24), "closed by the city although a working day"),
    (date(2026, 10, 10), "Saturday"),
])
def test_closed_days(calendars: Calendars, day: date, why: str) -> None:
    service = calendars.services["buergerservice"]
    assert list(calendars.slots_on(service, day)) == [], why


def test_slots_keep_their_local_time_across_the_daylight_saving_switch(
        calendars: Calendars) -> None:
    service = calendars.services["buergerservice"]
    before = next(calendars.slots_on(service, date(2026, 10, 23)))  # CEST, UTC+2
    after = next(calendars.slots_on(service, date(2026, 10, 26)))  # CET, UTC+1
    assert before.start == datetime(2026, 10, 23, 6, 0, tzinfo=UTC)
    assert after.start == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)


def test_slot_at_finds_only_real_slots(calendars: Calendars) -> None:
    service = calendars.services["buergerservice"]
    assert calendars.slot_at(service, datetime(2026, 10, 5, 8, 15, tzinfo=CITY_TIMEZONE))
    assert calendars.slot_at(service, datetime(2026, 10, 5, 8, 20, tzinfo=CITY_TIMEZONE)) is None
    assert calendars.slot_at(service, datetime(2026, 10, 5, 16, 0, tzinfo=CITY_TIMEZONE)) is None
    assert calendars.slot_at(service, datetime(2026, 6, 4, 9, 0, tzinfo=CITY_TIMEZONE)) is None


MINIMAL = """
departments: [allgemein]
services:
  test:
    title: {de: Test}
    slot_minutes: 30
    counters: 1
    hours: {mon: ["09:00-10:00"]}
"""


def test_a_custom_file_replaces_the_bundled_one(tmp_path: Path) -> None:
    path = tmp_path / "calendars.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    calendars = load_calendars(path)
    assert list(calendars.services) == ["test"]
    assert len(list(calendars.slots_on(calendars.services["test"], date(2026, 10, 5)))) == 2


@pytest.mark.parametrize(("replace", "by", "problem"), [
    ('"09:00-10:00"', '"10:00-09:00"', "ends before it starts"),
    ('"09:00-10:00"', '"9-10"', "not a time range"),
    ('"09:00-10:00"', '"09:00-09:20"', "shorter than one 30-minute slot"),
    ("counters: 1", "counters: 0", "services.test.counters"),
    ("title: {de: Test}", "title: {en: Test}", "German title"),
    ("mon:", "monday:", "hours.monday"),
    ("departments: [allgemein]", "departments: []", "departments"),
])
def test_a_broken_file_is_refused_naming_file_and_problem(
        tmp_path: Path, replace: str, by: str, problem: str) -> None:
    path = tmp_path / "calendars.yaml"
    path.write_text(MINIMAL.replace(replace, by), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=problem) as raised:
        load_calendars(path)
    assert str(path) in str(raised.value)


def test_unreadable_and_invalid_yaml_files_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_calendars(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("services: [", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_calendars(bad)
