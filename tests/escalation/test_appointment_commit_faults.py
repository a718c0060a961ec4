"""A connection that breaks during COMMIT of a booking or a cancellation: the citizen
is told what is stored, 201/200 for what the server kept and 503 only for what it did
not (SQLite and PostgreSQL; the broken COMMIT itself is simulated, as for tickets)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.api import create_app
from chatbot.config import Settings
from chatbot.errors import DatabaseUnavailableError
from chatbot.escalation.appointments import book_appointment, cancel_appointment
from chatbot.escalation.calendars import Calendars
from chatbot.storage import Database
from chatbot.storage.models import Appointment
from tests.api.test_appointments_api import BODY
from tests.conftest import FakeClock
from tests.escalation.test_appointments import REQUEST


def _break_the_commit(session: Session, monkeypatch: pytest.MonkeyPatch, *,
                      reaches_the_server: bool) -> list[int]:
    """The session's first COMMIT fails as a dropped connection would: after the server
    stored it, or before. Later commits (the confirmation's) work."""
    real_commit = session.commit
    calls: list[int] = []

    def commit() -> None:
        calls.append(1)
        if len(calls) == 1:
            if reaches_the_server:
                real_commit()
            raise DatabaseUnavailableError("server closed the connection unexpectedly")
        real_commit()

    monkeypatch.setattr(session, "commit", commit)
    return calls


def _rows(database: Database, *, live: bool = False) -> int:
    query = select(func.count()).select_from(Appointment)
    if live:
        query = query.where(Appointment.cancelled_at.is_(None))
    with database.session() as session:
        return session.scalar(query) or 0


def test_a_booking_stored_before_the_connection_broke_is_acknowledged(
        database: Database, calendars: Calendars, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with database.write_session() as session:
        calls = _break_the_commit(session, monkeypatch, reaches_the_server=True)
        booked = book_appointment(session, calendars=calendars, request=REQUEST,
                                  idempotency_key=None, now=clock())
    assert len(calls) == 2  # the broken COMMIT, then the confirming look-up's
    assert booked.appointment.reference == "TA-2026-000001"
    assert booked.appointment.cancelled_at is None
    assert _rows(database) == 1


def test_a_booking_not_stored_is_reported_unavailable(
        database: Database, calendars: Calendars, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with database.write_session() as session:
        _break_the_commit(session, monkeypatch, reaches_the_server=False)
        with pytest.raises(DatabaseUnavailableError):
            book_appointment(session, calendars=calendars, request=REQUEST,
                             idempotency_key=None, now=clock())
    assert _rows(database) == 0
    # Nothing is left behind: the slot and the reference number are free again.
    with database.write_session() as session:
        again = book_appointment(session, calendars=calendars, request=REQUEST,
                                 idempotency_key=None, now=clock())
    assert again.appointment.reference == "TA-2026-000001"


@pytest.mark.parametrize("reaches_the_server", [True, False])
def test_a_cancellation_is_confirmed_or_reported_unavailable(
        database: Database, calendars: Calendars, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch, reaches_the_server: bool) -> None:
    with database.write_session() as session:
        booked = book_appointment(session, calendars=calendars, request=REQUEST,
                                  idempotency_key=None, now=clock())
    with database.write_session() as session:
        _break_the_commit(session, monkeypatch, reaches_the_server=reaches_the_server)
        if reaches_the_server:
            cancelled = cancel_appointment(session, reference=booked.appointment.reference,
                                           token=booked.cancel_token, now=clock())
            assert cancelled.cancelled_at is not None
        else:
            with pytest.raises(DatabaseUnavailableError):
                cancel_appointment(session, reference=booked.appointment.reference,
                                   token=booked.cancel_token, now=clock())
    assert _rows(database, live=True) == (0 if reaches_the_server else 1)


@contextmanager
def _client_with_broken_commits(database: Database, tmp_path: Path, clock: FakeClock,
                                monkeypatch: pytest.MonkeyPatch, *,
                                reaches_the_server: bool) -> Iterator[TestClient]:
    settings = Settings(database_url=str(database.engine.url.render_as_string(
        hide_password=False)), load_search=False, index_poll_seconds=0,
        index_dir=tmp_path / "indexes", auto_migrate=False, rate_limits_enabled=False)
    with TestClient(create_app(settings, clock=clock)) as client:
        app_database: Database = client.app.state.db  # type: ignore[attr-defined]
        real = app_database.write_session

        def write_session() -> Session:
            session = real()
            _break_the_commit(session, monkeypatch, reaches_the_server=reaches_the_server)
            return session

        monkeypatch.setattr(app_database, "write_session", write_session)
        yield client


def test_the_api_answers_201_for_a_stored_booking_and_503_for_a_lost_one(
        database: Database, tmp_path: Path, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with _client_with_broken_commits(database, tmp_path, clock, monkeypatch,
                                     reaches_the_server=True) as client:
        stored = client.post("/api/v1/appointments", json=BODY)
        assert stored.status_code == 201, stored.text
        token = {"X-Access-Token": stored.json()["cancel_token"]}
        cancelled = client.delete(stored.json()["status_url"], headers=token)
        assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert _rows(database) == 1
    assert _rows(database, live=True) == 0
    with _client_with_broken_commits(database, tmp_path, clock, monkeypatch,
                                     reaches_the_server=False) as client:
        lost = client.post("/api/v1/appointments", json=BODY)
        assert lost.status_code == 503, lost.text
        assert int(lost.headers["Retry-After"]) > 0
    assert _rows(database) == 1  # only the first, cancelled booking
