"""Tickets: creation, references, idempotency, the citizen's view, the lifecycle."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import event, func, select

from chatbot.errors import InvalidInputError, InvalidTransitionError, NotFoundError
from chatbot.escalation.calendars import Calendars
from chatbot.escalation.conversations import record_message
from chatbot.escalation.tickets import (
    TicketRequest,
    TranscriptLine,
    add_note,
    add_reply,
    change_status,
    create_ticket,
    get_ticket,
    get_ticket_for_citizen,
    list_tickets,
)
from chatbot.escalation.tokens import hash_token
from chatbot.escalation.users import Actor
from chatbot.storage import Database
from chatbot.storage.models import Ticket, TicketEvent
from tests.conftest import FakeClock

AGENT = Actor(name="a.schmidt", role="agent")
REQUEST = TicketRequest(message="Mein Ausweis ist abgelaufen, ich brauche schnell einen Termin.",
                        preferred_language="de", consent=True,
                        contact_email="erika@example.org", department="buergerservice",
                        topic="Personalausweis")


def _create(database: Database, calendars: Calendars, clock: FakeClock,
            request: TicketRequest = REQUEST, key: str | None = None):  # type: ignore[no-untyped-def]
    with database.write_session() as session:
        return create_ticket(session, request=request, departments=calendars.departments,
                             idempotency_key=key, now=clock())


def _count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_references_count_up_per_year_and_tokens_are_stored_hashed(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    first = _create(database, calendars, clock)
    second = _create(database, calendars, clock)
    assert first.ticket.reference == "KR-2026-000001"
    assert second.ticket.reference == "KR-2026-000002"
    assert first.access_token != second.access_token
    assert len(first.access_token) >= 40
    with database.session() as session:
        stored = session.scalars(select(Ticket).order_by(Ticket.id)).first()
        assert stored is not None
        assert stored.access_token_hash == hash_token(first.access_token)
        assert first.access_token not in {stored.access_token_hash, stored.token_salt}
    clock.now = clock.now.replace(year=2027, month=1, day=4)
    assert _create(database, calendars, clock).ticket.reference == "KR-2027-000001"


def test_the_citizen_sees_the_ticket_only_with_its_token(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    created = _create(database, calendars, clock)
    other = _create(database, calendars, clock)
    reference = created.ticket.reference
    with database.session() as session:
        assert get_ticket_for_citizen(session, reference=reference,
                                      token=created.access_token).status == "open"
        for wrong in ("", "x" * 43, other.access_token):
            with pytest.raises(NotFoundError):
                get_ticket_for_citizen(session, reference=reference, token=wrong)
        with pytest.raises(NotFoundError):
            get_ticket_for_citizen(session, reference="KR-2026-999999",
                                   token=created.access_token)


def test_a_wrong_token_reads_no_more_than_an_unknown_reference(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    """The token is checked in the lookup itself: an existing reference with a wrong
    token takes the unknown reference's path (timing must not confirm it exists)."""
    created = _create(database, calendars, clock)

    def statements(reference: str, token: str) -> list[str]:
        seen: list[str] = []
        with database.session() as session:
            def listener(*args: object) -> None:
                if str(args[2]).lstrip().upper().startswith("SELECT"):
                    seen.append(str(args[2]))

            event.listen(session.get_bind(), "before_cursor_execute", listener)
            try:
                with pytest.raises(NotFoundError):
                    get_ticket_for_citizen(session, reference=reference, token=token)
            finally:
                event.remove(session.get_bind(), "before_cursor_execute", listener)
        return seen

    wrong_token = statements(created.ticket.reference, "x" * 43)
    unknown = statements("KR-2026-999999", "x" * 43)
    assert len(wrong_token) == len(unknown) == 1


def test_a_retry_with_the_same_key_returns_the_first_ticket_and_token(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    first = _create(database, calendars, clock, key="9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d")
    clock.advance(seconds=5)
    retry = _create(database, calendars, clock, key="9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d")
    assert not first.replayed
    assert retry.replayed
    assert retry.ticket.reference == first.ticket.reference
    assert retry.access_token == first.access_token
    assert _count(database) == 1
    with database.session() as session:  # the replayed token really opens the ticket
        get_ticket_for_citizen(session, reference=first.ticket.reference,
                               token=retry.access_token)


def test_reusing_a_key_for_a_different_request_is_refused(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    _create(database, calendars, clock, key="key-000000001")
    with pytest.raises(InvalidInputError) as raised:
        _create(database, calendars, clock, replace(REQUEST, message="Etwas anderes"),
                key="key-000000001")
    assert raised.value.field == "Idempotency-Key"
    assert _count(database) == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"consent": False}, "consent"),
    ({"contact_email": None, "contact_phone": None}, "contact"),
    ({"department": "finanzamt"}, "department"),
    ({"conversation_id": "unknown-conversation"}, "conversation_id"),
])
def test_invalid_requests_name_the_field_and_store_nothing(
        database: Database, calendars: Calendars, clock: FakeClock, change: dict[str, object],
        field: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        _create(database, calendars, clock, replace(REQUEST, **change))  # type: ignore[arg-type]
    assert raised.value.field == field
    assert _count(database) == 0


def test_without_department_the_ticket_goes_to_the_general_queue(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    created = _create(database, calendars, clock, replace(REQUEST, department=None))
    assert created.ticket.department == "allgemein"


def test_a_stored_conversation_is_attached_masked_with_its_language(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    with database.write_session() as session:
        record_message(session, conversation_id="conv-1", role="citizen", language="tr",
                       text="Kimlik kartım L01X00T47 kayboldu, tel 0176 12345678",
                       now=clock())
        record_message(session, conversation_id="conv-1", role="assistant", language="tr",
                       text="Bir bilet açabilirim.", now=clock())
    request = replace(REQUEST, conversation_id="conv-1", preferred_language="tr",
                      contact_phone="0176 12345678",
                      # The stored conversation wins over what a client claims.
                      transcript=(TranscriptLine(role="citizen", text="forged"),))
    ticket = _create(database, calendars, clock, request).ticket
    assert ticket.detected_language == "tr"
    assert ticket.conversation_id == "conv-1"
    assert ticket.transcript is not None
    assert [(line["role"], line["text"]) for line in ticket.transcript] == [
        ("citizen", "Kimlik kartım [id-number] kayboldu, tel [phone]"),
        ("assistant", "Bir bilet açabilirim.")]
    assert ticket.contact_phone == "0176 12345678"  # given for the answer: kept


def test_a_client_transcript_is_used_when_the_conversation_is_not_stored(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    request = replace(REQUEST, conversation_id="only-in-the-widget", detected_language="ckb",
                      transcript=(TranscriptLine(role="citizen",
                                                 text="IBAN DE89370400440532013000"),))
    ticket = _create(database, calendars, clock, request).ticket
    assert ticket.conversation_id is None
    assert ticket.detected_language == "ckb"
    assert ticket.transcript == [{"role": "citizen", "text": "IBAN [iban]"}]


def test_the_full_lifecycle_is_recorded_with_who_and_when(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    reference = _create(database, calendars, clock).ticket.reference
    steps = ["in_progress", "waiting_for_citizen", "in_progress", "resolved", "closed"]
    for status in steps:
        clock.advance(minutes=10)
        with database.write_session() as session:
            ticket = change_status(session, reference=reference, to_status=status, actor=AGENT,
                                   now=clock(), comment=f"-> {status}")
            assert ticket.status == status
    with database.session() as session:
        ticket = get_ticket(session, reference=reference)
        history = [(e.kind, e.from_status, e.to_status, e.actor_name) for e in ticket.events]
        times = [e.created_at for e in ticket.events]
        assert ticket.closed_at == clock()
    assert history == [("created", None, "open", "citizen"),
                       ("status", "open", "in_progress", "a.schmidt"),
                       ("status", "in_progress", "waiting_for_citizen", "a.schmidt"),
                       ("status", "waiting_for_citizen", "in_progress", "a.schmidt"),
                       ("status", "in_progress", "resolved", "a.schmidt"),
                       ("status", "resolved", "closed", "a.schmidt")]
    assert times == sorted(times)
    assert len(set(times)) == len(times)


@pytest.mark.parametrize(("path", "refused"), [
    ([], "waiting_for_citizen"),
    (["in_progress"], "open"),
    (["in_progress"], "closed"),
    (["closed"], "in_progress"),
])
def test_transitions_outside_the_lifecycle_are_refused(
        database: Database, calendars: Calendars, clock: FakeClock, path: list[str],
        refused: str) -> None:
    reference = _create(database, calendars, clock).ticket.reference
    with database.write_session() as session:
        for status in path:
            change_status(session, reference=reference, to_status=status, actor=AGENT,
                          now=clock())
        with pytest.raises(InvalidTransitionError, match="can move to"):
            change_status(session, reference=reference, to_status=refused, actor=AGENT,
                          now=clock())
    with database.session() as session:
        assert get_ticket(session, reference=reference).status == (path or ["open"])[-1]


def test_notes_stay_internal_and_replies_reach_the_citizen(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    created = _create(database, calendars, clock)
    reference = created.ticket.reference
    with database.write_session() as session:
        add_note(session, reference=reference, text="Rückruf vereinbart", actor=AGENT,
                 now=clock())
        add_reply(session, reference=reference, text="Bitte bringen Sie ein Foto mit.",
                  actor=AGENT, now=clock())
        with pytest.raises(InvalidInputError):
            add_note(session, reference=reference, text="  ", actor=AGENT, now=clock())
    with database.session() as session:
        ticket = get_ticket(session, reference=reference)
        kinds = [(e.kind, e.body, e.actor_name) for e in ticket.events if e.kind != "created"]
    assert kinds == [("note", "Rückruf vereinbart", "a.schmidt"),
                     ("reply", "Bitte bringen Sie ein Foto mit.", "a.schmidt")]


def test_closed_tickets_are_read_only(database: Database, calendars: Calendars,
                                      clock: FakeClock) -> None:
    reference = _create(database, calendars, clock).ticket.reference
    with database.write_session() as session:
        change_status(session, reference=reference, to_status="closed", actor=AGENT,
                      now=clock())
        for add in (add_note, add_reply):
            with pytest.raises(InvalidTransitionError, match="closed"):
                add(session, reference=reference, text="zu spät", actor=AGENT, now=clock())
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(TicketEvent)) == 2


def test_the_queue_filters_and_sorts_oldest_first(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    from datetime import timedelta

    old = _create(database, calendars, clock).ticket.reference
    clock.advance(hours=30)
    _create(database, calendars, clock, replace(REQUEST, preferred_language="en",
                                                department="standesamt"))
    newest = _create(database, calendars, clock).ticket.reference
    with database.write_session() as session:
        change_status(session, reference=newest, to_status="in_progress", actor=AGENT,
                      now=clock())

    def refs(**filters: object) -> list[str]:
        with database.session() as session:
            found, total = list_tickets(session, now=clock(), **filters)  # type: ignore[arg-type]
            assert total == len(found)
            return [t.reference for t in found]

    assert refs() == ["KR-2026-000001", "KR-2026-000002", "KR-2026-000003"]
    assert refs(statuses=["open"]) == ["KR-2026-000001", "KR-2026-000002"]
    assert refs(department="standesamt") == ["KR-2026-000002"]
    assert refs(language="en") == ["KR-2026-000002"]
    assert refs(min_age=timedelta(hours=24)) == [old]
    assert refs(max_age=timedelta(hours=24)) == ["KR-2026-000002", newest]
    with database.session() as session:
        page, total = list_tickets(session, now=clock(), limit=1, offset=1)
        assert ([t.reference for t in page], total) == (["KR-2026-000002"], 3)
        with pytest.raises(InvalidInputError):
            list_tickets(session, now=clock(), statuses=["lost"])
