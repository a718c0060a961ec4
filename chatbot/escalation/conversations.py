"""Stored chat conversations: a ticket copies the transcript, purge ages them out.

The chat endpoint records messages and feedback here; the ticket service and the
editors' content-gap report read them. What a citizen typed is masked
(`chatbot.escalation.masking`) here, at the storage boundary, before the first query:
the dialogue answers the current turn from the text as typed, but no e-mail address,
phone number or IBAN reaches the database, and masking never runs inside a transaction
when the caller has none open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from chatbot.escalation.masking import CITIZEN_ROLES, mask_text
from chatbot.storage.models import (
    MESSAGE_ROLES,
    REPLY_TYPES,
    Conversation,
    ConversationMessage,
)


def record_message(session: Session, *, conversation_id: str, role: str, text: str,
                   language: str | None, now: datetime, detected_language: str | None = None,
                   reply_type: str | None = None, article_id: str | None = None,
                   department: str | None = None, confidence: float | None = None
                   ) -> Conversation:
    """Append one message. `language` is the conversation's supported language (it
    becomes the conversation's); `detected_language` may be any detected code.
    Assistants' replies carry `reply_type` and the article they were about."""
    if role not in MESSAGE_ROLES:
        raise ValueError(f"role must be one of {', '.join(MESSAGE_ROLES)}")
    if reply_type is not None and reply_type not in REPLY_TYPES:
        raise ValueError(f"reply_type must be one of {', '.join(REPLY_TYPES)}")
    if role in CITIZEN_ROLES:
        text = mask_text(text)
    conversation = _touched_conversation(session, conversation_id, language, now)
    conversation.messages.append(ConversationMessage(
        role=role, text=text, language=language, created_at=now,
        detected_language=detected_language, reply_type=reply_type, article_id=article_id,
        department=department, confidence=confidence))
    session.commit()
    return conversation


@dataclass(frozen=True)
class StoredReply:
    """An assistant's reply as stored beside the citizen's message it answers."""

    text: str
    reply_type: str
    article_id: str | None
    department: str | None
    confidence: float
    topic_confident: bool


def record_turn(session: Session, *, conversation_id: str, question: str, reply: StoredReply,
                language: str | None, detected_language: str | None, now: datetime
                ) -> Conversation:
    """The citizen's message and the reply, committed together: a turn is stored whole
    or not at all."""
    if reply.reply_type not in REPLY_TYPES:
        raise ValueError(f"reply_type must be one of {', '.join(REPLY_TYPES)}")
    # The reply is the service's own text (the hotline's number stays readable).
    masked_question = mask_text(question)
    conversation = _touched_conversation(session, conversation_id, language, now)
    conversation.messages.append(ConversationMessage(
        role="citizen", text=masked_question, language=language, created_at=now,
        detected_language=detected_language))
    conversation.messages.append(ConversationMessage(
        role="assistant", text=reply.text, language=language, created_at=now,
        reply_type=reply.reply_type, article_id=reply.article_id,
        department=reply.department, confidence=reply.confidence,
        topic_confident=reply.topic_confident))
    session.commit()
    return conversation


def _touched_conversation(session: Session, conversation_id: str, language: str | None,
                          now: datetime) -> Conversation:
    """The conversation (created if new) with its activity time and language updated."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        conversation = Conversation(id=conversation_id, language=language, created_at=now,
                                    last_activity_at=now)
        session.add(conversation)
    conversation.last_activity_at = now
    if language:
        conversation.language = language
    return conversation


def get_conversation(session: Session, conversation_id: str) -> Conversation | None:
    return session.get(Conversation, conversation_id)
