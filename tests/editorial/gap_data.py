"""Stored conversations for content-gap tests: turns written the way the chat writes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from chatbot.escalation.conversations import record_message
from chatbot.storage.models import ChatFeedback


def record_turn(session: Session, conversation_id: str, question: str, reply_type: str, *,
                now: datetime, lang: str | None = "de", detected: str | None = None,
                article_id: str | None = None, department: str | None = None,
                confidence: float = 0.2) -> None:
    record_message(session, conversation_id=conversation_id, role="citizen", text=question,
                   language=lang, detected_language=detected or lang, now=now)
    record_message(session, conversation_id=conversation_id, role="assistant",
                   text=f"reply to {question}", language=lang, now=now,
                   reply_type=reply_type, article_id=article_id, department=department,
                   confidence=confidence)


def rate(session: Session, conversation_id: str, turn: int, *, helpful: bool,
         now: datetime) -> None:
    session.add(ChatFeedback(conversation_id=conversation_id, turn=turn, helpful=helpful,
                             created_at=now))
    session.commit()


def seed_gaps(session: Session, now: datetime) -> None:
    """Escalated questions (three alike, one with contact data), a down-rated answer,
    an answered-and-unrated question, a liked one and an unsupported language."""
    record_turn(session, "c1", "Wie hoch ist die Hundesteuer für zwei Hunde?", "escalate",
                now=now)
    record_turn(session, "c2", "Wie hoch ist die Hundesteuer für zwei Hunde?", "escalate",
                now=now)
    record_turn(session, "c3", "Wie hoch ist die Hundesteuer für zwei Hunde? Antwort an "
                "max.muster@example.org oder 0151 2345678", "escalate", now=now)
    record_turn(session, "c4", "Reisepass beantragen", "answer", now=now,
                article_id="reisepass-beantragen", department="buergerservice",
                confidence=0.9)
    record_turn(session, "c4", "Wie lange dauert ein Expresspass?", "answer", now=now,
                article_id="reisepass-beantragen", department="buergerservice",
                confidence=0.8)
    rate(session, "c4", 2, helpful=False, now=now)
    record_turn(session, "c5", "Wann kommt die gelbe Tonne?", "answer", now=now,
                article_id="abfuhrkalender", department="entsorgung", confidence=0.9)
    record_turn(session, "c6", "Personalausweis verloren", "answer", now=now,
                article_id="personalausweis", department="buergerservice", confidence=0.9)
    rate(session, "c6", 1, helpful=True, now=now)
    record_turn(session, "c7", "كيف أسجل عنواني الجديد؟", "unsupported_language", now=now,
                lang=None, detected="ar", confidence=0.99)
