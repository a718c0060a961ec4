"""Citizens' ratings of chat replies, stored for the editors' content-gap report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.errors import NotFoundError
from chatbot.escalation.conversations import get_conversation
from chatbot.escalation.masking import mask_text
from chatbot.storage.models import ChatFeedback, ConversationMessage


def record_feedback(session: Session, *, conversation_id: str, turn: int, helpful: bool,
                    comment: str | None, now: datetime) -> ChatFeedback:
    """Store a rating of reply `turn` (1-based), its comment masked; nothing is stored
    for an unknown conversation or a turn it does not have yet."""
    masked_comment = mask_text(comment) if comment is not None else None
    if get_conversation(session, conversation_id) is None:
        raise NotFoundError(f"unknown conversation_id {conversation_id!r}")
    turns = session.scalar(select(func.count()).select_from(ConversationMessage).where(
        ConversationMessage.conversation_id == conversation_id,
        ConversationMessage.role == "citizen")) or 0
    if turn > turns:
        raise NotFoundError(f"conversation has {turns} turn(s), not {turn}")
    row = ChatFeedback(conversation_id=conversation_id, turn=turn, helpful=helpful,
                       comment=masked_comment, created_at=now)
    session.add(row)
    session.commit()
    return row
