"""What a citizen typed is stored masked (conversations, feedback, ticket message, topic
and transcript), the service's own words are not, and masking runs outside any
transaction (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.errors import NotFoundError
from chatbot.escalation import conversations, tickets
from chatbot.escalation.calendars import Calendars
from chatbot.escalation.conversations import StoredReply, record_message, record_turn
from chatbot.escalation.feedback import record_feedback
from chatbot.escalation.tickets import TicketRequest, TranscriptLine, create_ticket
from chatbot.storage import Database
from chatbot.storage.models import ChatFeedback, ConversationMessage, Ticket
from tests.conftest import FakeClock

EMAIL, PHONE, IBAN = "erika.m@example.org", "0176 12345678", "DE89 3704 0044 0532 0130 00"
TYPED = f"Bitte an {EMAIL} oder {PHONE}, Konto {IBAN}"
MASKED = "Bitte an [email] oder [phone], Konto [iban]"
HOTLINE_REPLY = "Rufen Sie uns an: 0221 221-0 (Mo-Do 8-17 Uhr)."


def _turn(session: Session, clock: FakeClock, conversation_id: str = "c1") -> None:
    record_turn(session, conversation_id=conversation_id, question=TYPED,
                reply=StoredReply(text=HOTLINE_REPLY, reply_type="escalate", article_id=None,
                                  department=None, confidence=0.1, topic_confident=False),
                language="de", detected_language="de", now=clock())


def test_a_turn_stores_the_citizens_text_masked_and_the_reply_as_written(
        database: Database, clock: FakeClock) -> None:
    with database.write_session() as session:
        _turn(session, clock)
        record_message(session, conversation_id="c1", role="citizen", text=f"Noch: {EMAIL}",
                       language="de", now=clock())
        record_message(session, conversation_id="c1", role="assistant", text=HOTLINE_REPLY,
                       language="de", now=clock(), reply_type="escalate")
    with database.session() as session:
        stored = [(m.role, m.text) for m in session.scalars(
            select(ConversationMessage).order_by(ConversationMessage.id))]
    assert stored == [("citizen", MASKED), ("assistant", HOTLINE_REPLY),
                      ("citizen", "Noch: [email]"), ("assistant", HOTLINE_REPLY)]


def test_feedback_comments_are_stored_masked(database: Database, clock: FakeClock) -> None:
    with database.write_session() as session:
        _turn(session, clock)
        record_feedback(session, conversation_id="c1", turn=1, helpful=False,
                        comment=TYPED, now=clock())
        with pytest.raises(NotFoundError):
            record_feedback(session, conversation_id="c1", turn=2, helpful=True,
                            comment=None, now=clock())
        with pytest.raises(NotFoundError):
            record_feedback(session, conversation_id="nope", turn=1, helpful=True,
                            comment=None, now=clock())
    with database.session() as session:
        assert list(session.scalars(select(ChatFeedback.comment))) == [MASKED]


def test_a_ticket_stores_message_topic_and_transcript_masked_and_contacts_as_given(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    with database.write_session() as session:
        _turn(session, clock)
    request = TicketRequest(message=TYPED, topic=f"Rückruf {PHONE}", preferred_language="de",
                            consent=True, contact_email=EMAIL, contact_phone=PHONE,
                            conversation_id="c1")
    with database.write_session() as session:
        create_ticket(session, request=request, departments=calendars.departments,
                      idempotency_key=None, now=clock())
        # A client's copy of a chat: any line may hold what the citizen typed.
        create_ticket(session, request=replace(request, conversation_id=None, transcript=(
            TranscriptLine("citizen", TYPED), TranscriptLine("assistant", TYPED))),
            departments=calendars.departments, idempotency_key=None, now=clock())
    with database.session() as session:
        stored, from_client = session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert (stored.message, stored.topic) == (MASKED, "Rückruf [phone]")
    assert (stored.contact_email, stored.contact_phone) == (EMAIL, PHONE)
    assert stored.transcript is not None
    assert [(line["role"], line["text"]) for line in stored.transcript] == [
        ("citizen", MASKED), ("assistant", HOTLINE_REPLY)]
    assert from_client.transcript == [{"role": "citizen", "text": MASKED},
                                      {"role": "assistant", "text": MASKED}]


def test_masking_runs_with_no_transaction_open(
        database: Database, calendars: Calendars, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite a writing session's transaction holds the database's write lock, on
    PostgreSQL the reference counter's row lock: a slow mask must hold neither."""
    sessions: list[Session] = []
    open_during_masking: list[str] = []

    def spy(module: Any, name: str) -> None:
        original = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if any(s.in_transaction() for s in sessions):
                open_during_masking.append(f"{module.__name__}.{name}")
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    with database.write_session() as session:
        _turn(session, clock)
    for module, name in ((tickets, "mask_text"), (tickets, "mask_transcript"),
                         (conversations, "mask_text")):
        spy(module, name)
    request = TicketRequest(message=TYPED, topic="Rückruf", preferred_language="de",
                            consent=True, contact_email=EMAIL, conversation_id="c1")
    with database.write_session() as session:
        sessions.append(session)
        # An idempotency key and a stored chat: both are read before anything is masked.
        create_ticket(session, request=request, departments=calendars.departments,
                      idempotency_key="key-0001-abcdef", now=clock())
        _turn(session, clock, conversation_id="c2")
        record_feedback(session, conversation_id="c2", turn=1, helpful=False, comment=TYPED,
                        now=clock())
    assert open_during_masking == []
