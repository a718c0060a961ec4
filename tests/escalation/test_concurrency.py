"""Many threads, one database: capacity and references hold on SQLite and PostgreSQL.

(The two-process test in tests/api covers separate server processes on PostgreSQL.)
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select

from chatbot.errors import SlotTakenError
from chatbot.escalation.appointments import AppointmentRequest, book_appointment
from chatbot.escalation.calendars import Calendars
from chatbot.escalation.clock import CITY_TIMEZONE
from chatbot.escalation.tickets import TicketRequest, create_ticket
from chatbot.storage import Database
from chatbot.storage.models import Appointment, Ticket
from tests.conftest import FakeClock

THREADS = 12


def test_simultaneous_bookings_of_a_one_counter_slot(database: Database, calendars: Calendars,
                                                     clock: FakeClock) -> None:
    request = AppointmentRequest(service="bauen", name="x", preferred_language="de",
                                 consent=True,
                                 start=datetime(2026, 10, 8, 9, 0, tzinfo=CITY_TIMEZONE))
    start_together = threading.Barrier(THREADS)

    def book(i: int) -> str:
        start_together.wait()
        try:
            with database.write_session() as session:
                book_appointment(session, calendars=calendars, idempotency_key=None,
                                 now=clock(), request=replace(request, name=f"P{i}"))
            return "booked"
        except SlotTakenError:
            return "full"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = Counter(pool.map(book, range(THREADS)))
    assert outcomes == {"booked": 1, "full": THREADS - 1}
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_simultaneous_tickets_get_distinct_consecutive_references(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    request = TicketRequest(message="Rückruf bitte", preferred_language="de", consent=True,
                            contact_phone="0221 123456")
    start_together = threading.Barrier(THREADS)

    def create(_: int) -> str:
        start_together.wait()
        with database.write_session() as session:
            return create_ticket(session, request=request, departments=calendars.departments,
                                 idempotency_key=None, now=clock()).ticket.reference

    with ThreadPoolExecutor(THREADS) as pool:
        references = list(pool.map(create, range(THREADS * 3)))
    assert sorted(references) == [f"KR-2026-{n:06d}" for n in range(1, THREADS * 3 + 1)]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == THREADS * 3
