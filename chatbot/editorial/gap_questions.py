"""The citizens' questions the chat could not serve, read from stored conversations.

A question is a gap when the reply that followed it escalated, when the chat did
not support its language, or when the citizen rated that turn unhelpful
(`chat_feedback.helpful` false; a turn is the n-th citizen message of the
conversation). Answered or clarified questions that nobody rated down are not gaps.

Unsupported-language questions are a language gap rather than a missing article:
they are kept, under the detected language (e.g. "ar", "ckb") and the reason
`unsupported_language`, so editors see which languages citizens ask in.

Every text is masked (`chatbot.escalation.masking`) here, before it is embedded,
shown or exported: nothing downstream sees an e-mail address or phone number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from chatbot.escalation.masking import mask_text
from chatbot.storage.models import ChatFeedback, ConversationMessage

REASON_ESCALATED = "escalated"
REASON_NEGATIVE_FEEDBACK = "negative_feedback"
REASON_UNSUPPORTED_LANGUAGE = "unsupported_language"
REASONS = (REASON_ESCALATED, REASON_NEGATIVE_FEEDBACK, REASON_UNSUPPORTED_LANGUAGE)
UNKNOWN = "unknown"
"""Language or department when nothing was recorded (rows from before migration 0003,
or an escalation without a confident topic)."""

_REPLY_REASONS = {"escalate": REASON_ESCALATED,
                  "unsupported_language": REASON_UNSUPPORTED_LANGUAGE}


@dataclass(frozen=True)
class GapQuestion:
    text: str
    """Masked."""
    language: str
    department: str
    reasons: frozenset[str]
    asked_at: datetime
    article_id: str | None
    """The article the chat offered (answered with, or escalated about), if any."""


def gap_questions(session: Session, *, since: datetime | None = None,
                  language: str | None = None) -> list[GapQuestion]:
    """Gap questions asked at or after `since`, optionally of one language, oldest first."""
    negative = _negative_feedback(since)
    negative_turns = {(conversation, turn) for conversation, turn in session.execute(negative)}
    replied = select(ConversationMessage.conversation_id).where(
        ConversationMessage.reply_type.in_(tuple(_REPLY_REASONS)))
    if since is not None:
        replied = replied.where(ConversationMessage.created_at >= since)
    rows = session.execute(
        select(ConversationMessage.conversation_id, ConversationMessage.role,
               ConversationMessage.text, ConversationMessage.language,
               ConversationMessage.detected_language, ConversationMessage.reply_type,
               ConversationMessage.article_id, ConversationMessage.department,
               ConversationMessage.created_at)
        .where(or_(ConversationMessage.conversation_id.in_(replied),
                   ConversationMessage.conversation_id.in_(
                       negative.with_only_columns(ChatFeedback.conversation_id))))
        .order_by(ConversationMessage.conversation_id, ConversationMessage.id))
    questions = [q for q in _pair_turns(rows, negative_turns)
                 if (since is None or q.asked_at >= since)
                 and (language is None or q.language == language)]
    questions.sort(key=lambda q: q.asked_at)
    return questions


def _negative_feedback(since: datetime | None) -> Select[str, int]:
    query = select(ChatFeedback.conversation_id, ChatFeedback.turn).where(
        ChatFeedback.helpful.is_(False))
    if since is not None:
        # A rating comes after its question: older ratings cannot be about the window.
        query = query.where(ChatFeedback.created_at >= since)
    return query


def _pair_turns(rows: Iterable[tuple[str, str, str, str | None, str | None, str | None,
                                     str | None, str | None, datetime]],
                negative: set[tuple[str, int]]) -> Iterable[GapQuestion]:
    """Walk each conversation's messages in order and pair a question with its reply."""
    conversation: str | None = None
    turn = 0
    question: tuple[str, str | None, str | None, datetime] | None = None
    for (conversation_id, role, text, language, detected, reply_type, article_id, department,
         created_at) in rows:
        if conversation_id != conversation:
            conversation, turn, question = conversation_id, 0, None
        if role == "citizen":
            turn += 1
            question = (text, language, detected, created_at)
            continue
        if question is None:
            continue
        reasons = set()
        if reply_type in _REPLY_REASONS:
            reasons.add(_REPLY_REASONS[reply_type])
        if (conversation_id, turn) in negative:
            reasons.add(REASON_NEGATIVE_FEEDBACK)
        if reasons:
            text, asked_in, detected_in, asked_at = question
            yield GapQuestion(text=mask_text(text),
                              language=asked_in or detected_in or UNKNOWN,
                              department=department or UNKNOWN, reasons=frozenset(reasons),
                              asked_at=asked_at, article_id=article_id)
        question = None
