"""A citizen's e-mail address, phone number and IBAN typed into the chat, a feedback
comment and a ticket reach neither the database (outside the ticket's contact fields)
nor any log line; the service's own hotline number stays readable in stored replies.
Real model and index, SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from chatbot.config import Settings
from tests.conftest import FakeClock

pytestmark = pytest.mark.slow

EMAIL = "erika.mustermann@example.org"
PHONE = "0176 98765432"
IBAN = "DE89 3704 0044 0532 0130 00"
ID_CARD = "L01X00T47"
CONTACT_EMAIL = "e.m.reply@example.net"  # given in the ticket's contact field
TYPED = [EMAIL, PHONE, IBAN, ID_CARD, CONTACT_EMAIL]
# Digits in a row, however the citizen grouped them.
TYPED_DIGITS = [re.sub(r"\D", "", PHONE), re.sub(r"\D", "", IBAN)]


@pytest.fixture
def client(search_service: Any, corpus_index_dir: Path, db_url: str,
           clock: FakeClock) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from chatbot.api import create_app

    settings = Settings(index_dir=corpus_index_dir, index_poll_seconds=0, database_url=db_url)
    with TestClient(create_app(settings, search_service=search_service, clock=clock)) as client:
        yield client


def _leaks(text: str) -> list[str]:
    digits = re.sub(r"\D", "", text)
    return ([value for value in TYPED if value in text]
            + [value for value in TYPED_DIGITS if value in digits])


def test_nothing_a_citizen_typed_is_stored_or_logged(
        client: Any, db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    from chatbot.storage import Database
    from chatbot.storage.models import ChatFeedback, ConversationMessage, Ticket

    # Everything, SQLAlchemy's statement log (what `echo=True` shows: statements and
    # their parameters) included. Its DEBUG level also logs result rows, the stored
    # contact fields among them: a deliberate operator's choice, not tested here.
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    first = client.post("/api/v1/chat", json={
        "message": f"Mein Personalausweis {ID_CARD} ist weg. Bitte schreiben Sie an {EMAIL} "
                   f"oder rufen Sie {PHONE} an."})
    assert first.status_code == 200, first.text
    conversation_id = first.json()["conversation_id"]
    second = client.post("/api/v1/chat", json={
        "message": f"Wer gewann 2014 die Fußball-WM? Überweisung an {IBAN}",
        "conversation_id": conversation_id})
    assert second.status_code == 200, second.text
    assert second.json()["type"] == "escalate"
    hotline_phone = client.app.state.settings.hotline_phone
    assert hotline_phone in second.json()["text"]
    rated = client.post("/api/v1/chat/feedback", json={
        "conversation_id": conversation_id, "turn": 1, "helpful": False,
        "comment": f"Keine Antwort, schreiben Sie an {EMAIL}"})
    assert rated.status_code == 201, rated.text
    ticket = client.post("/api/v1/tickets", json={
        "message": f"Neuer Ausweis, IBAN {IBAN}, Telefon {PHONE}",
        "topic": f"Ausweis {ID_CARD}", "preferred_language": "de", "consent": True,
        "contact": {"email": CONTACT_EMAIL}, "conversation_id": conversation_id})
    assert ticket.status_code == 201, ticket.text

    database = Database(db_url)
    try:
        with database.session() as session:
            messages = session.scalars(
                select(ConversationMessage).order_by(ConversationMessage.id)).all()
            comments = session.scalars(select(ChatFeedback.comment)).all()
            (stored_ticket,) = session.scalars(select(Ticket)).all()
    finally:
        database.dispose()

    assert [m.role for m in messages] == ["citizen", "assistant"] * 2
    stored_texts = [m.text for m in messages] + [c or "" for c in comments] + [
        stored_ticket.message, stored_ticket.topic or ""] + [
        line["text"] for line in stored_ticket.transcript or []]
    assert {text: _leaks(text) for text in stored_texts if _leaks(text)} == {}
    assert "[email]" in messages[0].text
    assert "[iban]" in messages[2].text
    # The service's own words are stored as sent: the hotline's number stays readable.
    assert hotline_phone in messages[3].text
    assert stored_ticket.contact_email == CONTACT_EMAIL

    assert caplog.records, "nothing was logged: the check below would prove nothing"
    leaking = [record.getMessage() for record in caplog.records
               if _leaks(record.getMessage())]
    assert leaking == []
