"""Booking and cancelling: capacity enforced by the database, past and unknown refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from chatbot.errors import ConflictError, InvalidInputError, NotFoundError, SlotTakenError
from chatbot.escalation.appointments import (
    AppointmentRequest,
    appointments_on,
    book_appointment,
    cancel_appointment,
    free_slots,
    get_appointment_for_citizen,
)
from chatbot.escalation.calendars import Calendars
from chatbot.escalation.clock import CITY_TIMEZONE
from chatbot.storage import Database
from chatbot.storage.models import Appointment
from tests.conftest import FakeClock

# Thursday 8 October 2026, 09:00 in Berlin: the building office's one-counter slot.
BAUEN_SLOT = datetime(2026, 10, 8, 9, 0, tzinfo=CITY_TIMEZONE)
REQUEST = AppointmentRequest(service="bauen", start=BAUEN_SLOT, name="Erika Mustermann",
                             preferred_language="de", consent=True,
                             contact_email="erika@example.org")


def _book(database: Database, calendars: Calendars, clock: FakeClock,
          request: AppointmentRequest = REQUEST, key: str | None = None):  # type: ignore[no-untyped-def]
    with database.write_session() as session:
        return book_appointment(session, calendars=calendars, request=request,
                                idempotency_key=key, now=clock())


def _live(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Appointment)
                              .where(Appointment.cancelled_at.is_(None))) or 0


def test_booking_returns_a_reference_and_a_cancel_token(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    booked = _book(database, calendars, clock)
    appointment = booked.appointment
    assert appointment.reference == "TA-2026-000001"
    assert appointment.slot_start == BAUEN_SLOT
    assert (appointment.slot_end - appointment.slot_start).total_seconds() == 3600
    assert appointment.counter_number == 1
    with database.session() as session:
        found = get_appointment_for_citizen(session, reference=appointment.reference,
                                            token=booked.cancel_token)
        assert found.name == "Erika Mustermann"
        with pytest.raises(NotFoundError):
            get_appointment_for_citizen(session, reference=appointment.reference, token="x")


def test_a_full_slot_is_refused(database: Database, calendars: Calendars,
                                clock: FakeClock) -> None:
    _book(database, calendars, clock)
    with pytest.raises(SlotTakenError, match="fully booked"):
        _book(database, calendars, clock, replace(REQUEST, name="Max Muster"))
    assert _live(database) == 1


def test_counters_fill_up_one_by_one(database: Database, calendars: Calendars,
                                     clock: FakeClock) -> None:
    request = replace(REQUEST, service="standesamt",  # two counters
                      start=datetime(2026, 10, 5, 10, 0, tzinfo=CITY_TIMEZONE))
    counters = [_book(database, calendars, clock, replace(request, name=f"P{i}"))
                .appointment.counter_number for i in range(2)]
    assert counters == [1, 2]
    with pytest.raises(SlotTakenError):
        _book(database, calendars, clock, replace(request, name="P3"))


def test_the_database_itself_refuses_a_second_booking_of_a_counter(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    """Not process memory: a row written behind the service's back still collides."""
    first = _book(database, calendars, clock).appointment
    with database.write_session() as session:
        session.add(Appointment(
            reference="TA-2026-999999", cancel_token_hash="0" * 64, token_salt="0" * 64,
            request_fingerprint="0" * 64, service=first.service, slot_start=first.slot_start,
            slot_end=first.slot_end, counter_number=1, name="Intruder",
            preferred_language="de", consent_at=clock(), created_at=clock()))
        with pytest.raises(IntegrityError):
            session.commit()


def test_cancelling_frees_the_slot(database: Database, calendars: Calendars,
                                   clock: FakeClock) -> None:
    booked = _book(database, calendars, clock)
    with database.write_session() as session:
        cancelled = cancel_appointment(session, reference=booked.appointment.reference,
                                       token=booked.cancel_token, now=clock())
        assert cancelled.cancelled_at == clock()
        again = cancel_appointment(session, reference=booked.appointment.reference,
                                   token=booked.cancel_token, now=clock())
        assert again.cancelled_at == cancelled.cancelled_at
    rebooked = _book(database, calendars, clock, replace(REQUEST, name="Max Muster"))
    assert rebooked.appointment.counter_number == 1
    assert _live(database) == 1


def test_cancelling_needs_the_token_and_a_future_appointment(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    booked = _book(database, calendars, clock)
    reference = booked.appointment.reference
    with database.write_session() as session:
        with pytest.raises(NotFoundError):
            cancel_appointment(session, reference=reference, token="wrong", now=clock())
        clock.now = BAUEN_SLOT.astimezone(UTC)
        with pytest.raises(ConflictError, match="already begun"):
            cancel_appointment(session, reference=reference, token=booked.cancel_token,
                               now=clock())
    assert _live(database) == 1


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"service": "finanzamt"}, "service", "unknown service"),
    ({"start": datetime(2026, 10, 5, 7, 0, tzinfo=CITY_TIMEZONE), "service": "buergerservice"},
     "start", "in the past"),
    ({"start": datetime(2026, 10, 5, 8, 0, tzinfo=CITY_TIMEZONE), "service": "buergerservice"},
     "start", "in the past"),  # the slot that starts right now
    ({"start": datetime(2026, 10, 8, 9, 30, tzinfo=CITY_TIMEZONE)}, "start", "not a slot"),
    ({"start": datetime(2026, 10, 6, 12, 0, tzinfo=CITY_TIMEZONE)}, "start", "not a slot"),
    ({"start": datetime(2026, 12, 24, 9, 0, tzinfo=CITY_TIMEZONE)}, "start", "not a slot"),
    ({"start": datetime(2027, 3, 4, 9, 0, tzinfo=CITY_TIMEZONE)}, "start", "90 days ahead"),
    ({"consent": False}, "consent", "consent"),
])
def test_invalid_bookings_name_the_field_and_store_nothing(
        database: Database, calendars: Calendars, clock: FakeClock, change: dict[str, object],
        field: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as raised:
        _book(database, calendars, clock, replace(REQUEST, **change))  # type: ignore[arg-type]
    assert raised.value.field == field
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_retried_booking_returns_the_first_one(database: Database, calendars: Calendars,
                                                 clock: FakeClock) -> None:
    first = _book(database, calendars, clock, key="booking-key-1")
    # The same instant written with another offset is the same request.
    retry = _book(database, calendars, clock, replace(REQUEST, start=BAUEN_SLOT.astimezone(UTC)),
                  key="booking-key-1")
    assert retry.replayed
    assert retry.appointment.reference == first.appointment.reference
    assert retry.cancel_token == first.cancel_token
    assert _live(database) == 1
    with pytest.raises(InvalidInputError) as raised:
        _book(database, calendars, clock, replace(REQUEST, name="Other"), key="booking-key-1")
    assert raised.value.field == "Idempotency-Key"


def test_free_slots_leave_out_past_and_full_ones(database: Database, calendars: Calendars,
                                                 clock: FakeClock) -> None:
    def listed(service: str, day: date, days: int = 1) -> list[tuple[str, int]]:
        with database.session() as session:
            return [(f"{s.slot.local_start:%m-%d %H:%M}", s.available)
                    for s in free_slots(session, calendars=calendars, service=service,
                                        start_day=day, days=days, now=clock())]

    clock.now = datetime(2026, 10, 8, 9, 30, tzinfo=CITY_TIMEZONE).astimezone(UTC)
    assert listed("bauen", date(2026, 10, 8)) == [
        ("10-08 10:00", 1), ("10-08 11:00", 1), ("10-08 14:00", 1), ("10-08 15:00", 1)]
    _book(database, calendars, clock,
          replace(REQUEST, start=datetime(2026, 10, 8, 11, 0, tzinfo=CITY_TIMEZONE)))
    assert listed("bauen", date(2026, 10, 8)) == [
        ("10-08 10:00", 1), ("10-08 14:00", 1), ("10-08 15:00", 1)]
    standesamt = replace(REQUEST, service="standesamt",
                         start=datetime(2026, 10, 9, 8, 30, tzinfo=CITY_TIMEZONE))
    _book(database, calendars, clock, standesamt)
    assert listed("standesamt", date(2026, 10, 9))[0] == ("10-09 08:30", 1)
    # A week from Thursday: Tuesday and the next Thursday.
    assert {day for day, _ in listed("bauen", date(2026, 10, 9), days=7)} >= {"10-13 09:00",
                                                                              "10-15 14:00"}
    with database.session() as session, pytest.raises(InvalidInputError) as raised:
        free_slots(session, calendars=calendars, service="nope", start_day=date(2026, 10, 9),
                   days=1, now=clock())
    assert raised.value.field == "service"


def test_the_days_list_for_agents(database: Database, calendars: Calendars,
                                  clock: FakeClock) -> None:
    kept = _book(database, calendars, clock).appointment
    cancelled = _book(database, calendars, clock, replace(
        REQUEST, start=datetime(2026, 10, 8, 10, 0, tzinfo=CITY_TIMEZONE)))
    with database.write_session() as session:
        cancel_appointment(session, reference=cancelled.appointment.reference,
                           token=cancelled.cancel_token, now=clock())
    with database.session() as session:
        day = date(2026, 10, 8)
        assert [a.reference for a in appointments_on(session, day=day)] == [kept.reference]
        assert len(appointments_on(session, day=day, include_cancelled=True)) == 2
        assert appointments_on(session, day=day, service="standesamt") == []
        assert appointments_on(session, day=date(2026, 10, 7)) == []
