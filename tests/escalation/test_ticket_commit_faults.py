"""A connection that breaks during COMMIT: the citizen is told whether the ticket was
stored (SQLite and PostgreSQL; the broken COMMIT itself is simulated)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.errors import DatabaseUnavailableError
from chatbot.escalation.calendars import Calendars
from chatbot.escalation.tickets import create_ticket
from chatbot.storage import Database
from chatbot.storage.models import Ticket
from tests.conftest import FakeClock
from tests.escalation.test_tickets import REQUEST


def _break_the_final_commit(session: Session, monkeypatch: pytest.MonkeyPatch, *,
                            reaches_the_server: bool) -> None:
    real_commit = session.commit
    calls = 0

    def commit() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first ends the read before masking, the second stores
            if reaches_the_server:
                real_commit()
            raise DatabaseUnavailableError("server closed the connection unexpectedly")
        real_commit()

    monkeypatch.setattr(session, "commit", commit)


def _count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_a_ticket_stored_before_the_connection_broke_is_acknowledged(
        database: Database, calendars: Calendars, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with database.write_session() as session:
        _break_the_final_commit(session, monkeypatch, reaches_the_server=True)
        created: Any = create_ticket(session, request=REQUEST,
                                     departments=calendars.departments,
                                     idempotency_key=None, now=clock())
    assert created.ticket.reference == "KR-2026-000001"
    assert _count(database) == 1


def test_a_ticket_not_stored_is_reported_unavailable(
        database: Database, calendars: Calendars, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with database.write_session() as session:
        _break_the_final_commit(session, monkeypatch, reaches_the_server=False)
        with pytest.raises(DatabaseUnavailableError):
            create_ticket(session, request=REQUEST, departments=calendars.departments,
                          idempotency_key=None, now=clock())
    assert _count(database) == 0
