"""Chat tickets triaged from the stored chat; the city's contacts never masked."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from chatbot.escalation.calendars import Calendars
from chatbot.escalation.conversations import StoredReply, record_turn
from chatbot.escalation.masking import city_contacts, mask_text
from chatbot.escalation.tickets import (
    MAX_SUBJECT_CHARS,
    TicketRequest,
    TranscriptLine,
    create_ticket,
)
from chatbot.storage import Database
from chatbot.storage.models import Ticket
from tests.conftest import FakeClock

HOTLINE = "02151 86-0"
REQUEST = TicketRequest(message="Ich möchte mit jemandem sprechen", preferred_language="de",
                        consent=True, contact_email="erika@example.org",
                        conversation_id="conv-1")


def _turn(database: Database, clock: FakeClock, question: str, *, department: str | None,
          confident: bool, text: str = "Gern verbinden wir Sie.") -> None:
    with database.write_session() as session:
        record_turn(session, conversation_id="conv-1", question=question, language="de",
                    detected_language="de", now=clock(), reply=StoredReply(
                        text=text, reply_type="escalate", article_id="x",
                        department=department, confidence=1.0, topic_confident=confident))


def _create(database: Database, calendars: Calendars, clock: FakeClock,
            request: TicketRequest = REQUEST) -> Ticket:
    with database.write_session() as session:
        return create_ticket(session, request=request, departments=calendars.departments,
                             idempotency_key=None, now=clock(), hotline_phone=HOTLINE).ticket


def test_the_confident_topic_of_the_last_reply_routes_the_ticket(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    _turn(database, clock, "Ich habe meinen Ausweis verloren", department="buergerservice",
          confident=True)
    ticket = _create(database, calendars, clock,
                     replace(REQUEST, topic="Personalausweis verloren"))
    assert ticket.department == "buergerservice"
    assert ticket.topic == "Personalausweis verloren"
    assert ticket.message == "Ich möchte mit jemandem sprechen"


def test_a_topic_the_chat_was_not_sure_of_routes_to_the_general_queue(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    """A request for a person after a lost-ID question once went to the registry
    office (the "may help" article of the last reply): only a confident topic counts,
    and the client's department does not override the stored chat."""
    _turn(database, clock, "Ich habe meinen Ausweis verloren", department="buergerservice",
          confident=True)
    _turn(database, clock, "je veux parler a quelqu un", department="standesamt",
          confident=False)
    ticket = _create(database, calendars, clock, replace(REQUEST, department="standesamt"))
    assert ticket.department == "allgemein"
    assert ticket.topic == "je veux parler a quelqu un"  # the question that escalated


def test_a_department_unknown_to_the_calendars_goes_to_the_general_queue(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    _turn(database, clock, "Frage", department="abgeschafft", confident=True)
    assert _create(database, calendars, clock).department == "allgemein"


def test_without_a_stored_chat_the_subject_is_the_message_cut_at_a_word(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    message = "Wohngeld " + "sehr lange Frage " * 30 + "mit Nummer 0171 2345678"
    ticket = _create(database, calendars, clock,
                     replace(REQUEST, conversation_id=None, message=message,
                             department="wohngeld"))
    assert ticket.department == "wohngeld"
    assert ticket.topic is not None
    assert len(ticket.topic) <= MAX_SUBJECT_CHARS
    assert ticket.topic.startswith("Wohngeld sehr lange Frage")
    assert ticket.topic.endswith("Frage…")


def test_the_citys_numbers_stay_readable_and_the_citizens_are_masked(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    _turn(database, clock,
          "Ich habe 02151 86-0 und +49 116 116 angerufen, ich bin unter 0171 2345678 "
          "erreichbar, mail erika@example.org",
          department="buergerservice", confident=True,
          text="Sperren Sie den Ausweis unter **+49 116 116**. Hotline: 02151 86-0, "
               "buergerservice@stadt.example")
    ticket = _create(database, calendars, clock,
                     replace(REQUEST, message="Rückruf an 0171 2345678, nicht 02151 86-0"))
    assert ticket.transcript is not None
    citizen, assistant = ticket.transcript
    # Stored masked when it was said; the ticket keeps that.
    assert citizen["text"] == ("Ich habe [phone] und [phone] angerufen, ich bin unter "
                               "[phone] erreichbar, mail [email]")
    # The service's own words: never masked.
    assert "+49 116 116" in assistant["text"]
    assert "buergerservice@stadt.example" in (
        assistant["text"])
    assert ticket.message == "Rückruf an [phone], nicht 02151 86-0"


def test_a_client_copy_is_masked_in_every_role_but_for_the_hotline(
        database: Database, calendars: Calendars, clock: FakeClock) -> None:
    request = replace(REQUEST, conversation_id=None, transcript=(
        TranscriptLine(role="citizen", text="meine Nummer 0171 2345678"),
        TranscriptLine(role="assistant", text="Hotline 02151 86-0; Ihre 0171 2345678")))
    ticket = _create(database, calendars, clock, request)
    assert ticket.transcript == [
        {"role": "citizen", "text": "meine Nummer [phone]"},
        {"role": "assistant", "text": "Hotline 02151 86-0; Ihre [phone]"}]


@pytest.mark.parametrize(("text", "masked"), [
    ("Hotline 02151 86-0", "Hotline 02151 86-0"),
    ("Hotline 02151/860", "Hotline 02151/860"),  # the same number written otherwise
    ("Hotline 02151 86-1", "Hotline [phone]"),
    ("info@stadt.example und INFO@Stadt.example", "info@stadt.example und INFO@Stadt.example"),
    ("erika@example.org", "[email]"),
    ("IBAN DE89370400440532013000", "IBAN [iban]"),
])
def test_mask_text_keeps_only_the_given_contacts(text: str, masked: str) -> None:
    keep = city_contacts("Rufen Sie 02151 86-0 an oder schreiben Sie an info@stadt.example")
    assert mask_text(text, keep=keep) == masked


def test_keeping_contacts_stays_linear() -> None:
    keep = city_contacts("02151 86-0", *(f"0215 1{n:06d}" for n in range(1000)))
    hostile = "0171 2345678, 02151 86-0, a@b.de; " * 25_000  # about 800 KB
    start = time.perf_counter()
    masked = mask_text(hostile, keep=keep)
    assert time.perf_counter() - start < 5
    assert masked.count("02151 86-0") == 25_000
