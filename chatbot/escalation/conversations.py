"""Stored chat conversations: a ticket copies the transcript, purge ages them out.

The chat endpoint records messages here; the ticket service reads them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from chatbot.storage.models import MESSAGE_ROLES, Conversation, ConversationMessage


def record_message(session: Session, *, conversation_id: str, role: str, text: str,
                   language: str | None, now: datetime) -> Conversation:
    if role not in MESSAGE_ROLES:
        raise ValueError(f"role must be one of {', '.join(MESSAGE_ROLES)}")
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        conversation = Conversation(id=conversation_id, language=language, created_at=now,
                                    last_activity_at=now)
        session.add(conversation)
    conversation.last_activity_at = now
    if language:
        conversation.language = language
    conversation.messages.append(ConversationMessage(role=role, text=text, language=language,
                                                     created_at=now))
    session.commit()
    return conversation


def get_conversation(session: Session, conversation_id: str) -> Conversation | None:
    return session.get(Conversation, conversation_id)
