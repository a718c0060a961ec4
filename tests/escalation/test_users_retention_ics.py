"""Agents' tokens, the retention purge and the .ics file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from chatbot.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from chatbot.escalation.appointments import (
    AppointmentRequest,
    book_appointment,
    cancel_appointment,
)
from chatbot.escalation.calendars import Calendars
from chatbot.escalation.clock import CITY_TIMEZONE
from chatbot.escalation.conversations import record_message
from chatbot.escalation.ics import appointment_ics
from chatbot.escalation.retention import purge
from chatbot.escalation.tickets import TicketRequest, change_status, create_ticket
from chatbot.escalation.tokens import hash_token
from chatbot.escalation.users import Actor, add_user, authenticate, require_role, revoke_user
from chatbot.storage import Database
from chatbot.storage.models import (
    Appointment,
    Conversation,
    ConversationMessage,
    Ticket,
    TicketEvent,
    User,
)
from tests.conftest import FakeClock

# --- users --------------------------------------------------------------------------


def test_tokens_authenticate_their_user_and_are_stored_only_hashed(
        database: Database, make_user: Callable[..., str]) -> None:
    token = make_user("a.schmidt", "agent")
    with database.session() as session:
        assert authenticate(session, token=token) == Actor(name="a.schmidt", role="agent",
                                                           user_id=1)
        stored = session.scalars(select(User)).one()
        assert stored.token_hash == hash_token(token) != token
        for wrong in (None, "", token[:-1], token + "x"):
            with pytest.raises(AuthenticationError):
                authenticate(session, token=wrong)


def test_roles_and_revocation(database: Database, make_user: Callable[..., str],
                              clock: FakeClock) -> None:
    editor_token = make_user("e.redakteur", "editor")
    with database.session() as session:
        editor = authenticate(session, token=editor_token)
    with pytest.raises(PermissionDeniedError, match="agent"):
        require_role(editor, "agent")
    assert require_role(editor, "agent", "editor") == editor
    with database.write_session() as session:
        revoke_user(session, name="e.redakteur", now=clock())
        with pytest.raises(NotFoundError):
            revoke_user(session, name="nobody", now=clock())
    with database.session() as session, pytest.raises(AuthenticationError):
        authenticate(session, token=editor_token)


@pytest.mark.parametrize(("name", "role", "field"), [
    ("a schmidt", "agent", "name"), ("", "agent", "name"), ("x" * 65, "agent", "name"),
    ("admin", "admin", "role")])
def test_invalid_users_are_refused(database: Database, clock: FakeClock, name: str, role: str,
                                   field: str) -> None:
    with database.write_session() as session, pytest.raises(InvalidInputError) as raised:
        add_user(session, name=name, role=role, now=clock())
    assert raised.value.field == field


def test_user_names_are_unique(database: Database, make_user: Callable[..., str]) -> None:
    make_user("a.schmidt")
    with pytest.raises(ConflictError, match="already exists"):
        make_user("a.schmidt", "editor")


# --- retention ------------------------------------------------------------------------


def test_purge_deletes_only_what_is_older_than_the_retention(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    agent = Actor(name="a.schmidt", role="agent")
    start = clock()

    def ticket(closed: bool) -> str:
        with database.write_session() as session:
            reference = create_ticket(
                session, request=TicketRequest(message="Frage", preferred_language="de",
                                               consent=True, contact_phone="0221 123456",
                                               conversation_id=None),
                departments=calendars.departments, idempotency_key=None, now=clock(),
            ).ticket.reference
            if closed:
                change_status(session, reference=reference, to_status="closed", actor=agent,
                              now=clock())
            return reference

    with database.write_session() as session:
        record_message(session, conversation_id="old-chat", role="citizen", text="Hallo",
                       language="de", now=clock())
    with database.write_session() as session:
        linked = create_ticket(
            session, request=TicketRequest(message="Aus dem Chat", preferred_language="de",
                                           consent=True, contact_phone="0221 123456",
                                           conversation_id="old-chat"),
            departments=calendars.departments, idempotency_key=None, now=clock()).ticket
    old_closed = ticket(closed=True)
    old_open = ticket(closed=False)
    with database.write_session() as session:
        book_appointment(session, calendars=calendars, idempotency_key=None, now=clock(),
                         request=AppointmentRequest(
                             service="bauen", name="A", preferred_language="de", consent=True,
                             start=datetime(2026, 10, 8, 9, tzinfo=CITY_TIMEZONE)))
        cancelled = book_appointment(session, calendars=calendars, idempotency_key=None,
                                     now=clock(), request=AppointmentRequest(
                                         service="bauen", name="B", preferred_language="de",
                                         consent=True,
                                         start=datetime(2026, 11, 5, 9, tzinfo=CITY_TIMEZONE)))
        cancel_appointment(session, reference=cancelled.appointment.reference,
                           token=cancelled.cancel_token, now=clock())

    clock.now = start + timedelta(days=100)
    recent_closed = ticket(closed=True)
    with database.write_session() as session:
        record_message(session, conversation_id="new-chat", role="citizen", text="Hi",
                       language="en", now=clock())
        future = book_appointment(session, calendars=calendars, idempotency_key=None,
                                  now=clock(), request=AppointmentRequest(
                                      service="bauen", name="C", preferred_language="de",
                                      consent=True,
                                      start=datetime(2027, 1, 19, 9, tzinfo=CITY_TIMEZONE)))

    with database.write_session() as session:
        dry = purge(session, older_than=timedelta(days=90), now=clock(), dry_run=True)
    assert (dry.tickets, dry.appointments, dry.conversations) == (1, 2, 1)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 4

    with database.write_session() as session:
        result = purge(session, older_than=timedelta(days=90), now=clock())
    assert (result.tickets, result.appointments, result.conversations) == (1, 2, 1)
    assert result.cutoff == clock() - timedelta(days=90)
    with database.session() as session:
        tickets = set(session.scalars(select(Ticket.reference)))
        assert tickets == {linked.reference, old_open, recent_closed}
        assert set(session.scalars(select(Appointment.reference))) == {
            future.appointment.reference}
        assert set(session.scalars(select(Conversation.id))) == {"new-chat"}
        # Cascades: the purged ticket's history and the purged chat's messages are gone;
        # the ticket that quoted the chat keeps its copy but loses the link.
        assert session.scalar(select(func.count()).select_from(TicketEvent)
                              .join(Ticket).where(Ticket.reference == old_closed)) == 0
        assert session.scalar(select(func.count()).select_from(TicketEvent)) == 4
        assert session.scalar(select(func.count()).select_from(ConversationMessage)) == 1
        kept = session.scalars(select(Ticket).where(Ticket.reference == linked.reference)).one()
        assert kept.conversation_id is None
        assert kept.transcript
        assert kept.transcript[0]["text"] == "Hallo"


def test_purge_refuses_a_retention_under_a_day(database: Database, clock: FakeClock) -> None:
    with database.write_session() as session, pytest.raises(InvalidInputError):
        purge(session, older_than=timedelta(hours=23), now=clock())


# --- ics ------------------------------------------------------------------------------


def test_the_ics_file_follows_rfc_5545(database: Database, calendars: Calendars,
                                       clock: FakeClock) -> None:
    with database.write_session() as session:
        booked = book_appointment(
            session, calendars=calendars, idempotency_key=None, now=clock(),
            request=AppointmentRequest(service="auslaenderbehoerde", name="Ali Yılmaz",
                                       preferred_language="en", consent=True,
                                       start=datetime(2026, 10, 26, 8, tzinfo=CITY_TIMEZONE)))
    service = calendars.services["auslaenderbehoerde"].model_copy(
        update={"location": "Rathaus, Zimmer 1; Eingang B, Erdgeschoss (barrierefrei) " * 2})
    text = appointment_ics(booked.appointment, service, now=clock(), uid_domain="example.org")
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    unfolded = text.replace("\r\n ", "").split("\r\n")
    assert unfolded[:5] == ["BEGIN:VCALENDAR", "VERSION:2.0",
                            "PRODID:-//Citizen service chatbot//Appointments//DE",
                            "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    assert "UID:TA-2026-000001@example.org" in unfolded
    assert "DTSTAMP:20261005T060000Z" in unfolded
    assert "DTSTART:20261026T070000Z" in unfolded  # 08:00 in winter time is 07:00 UTC
    assert "DTEND:20261026T073000Z" in unfolded
    assert "SUMMARY:Immigration Office (TA-2026-000001)" in unfolded
    assert "STATUS:CONFIRMED" in unfolded
    assert ("LOCATION:Rathaus\\, Zimmer 1\\; Eingang B\\, Erdgeschoss (barrierefrei) "
            "Rathaus") in next(line for line in unfolded if line.startswith("LOCATION:"))
    assert unfolded[-3:] == ["END:VEVENT", "END:VCALENDAR", ""]
