"""Where the chat service keeps conversations: a small protocol, and its SQL adapter.

The service reads a conversation's language and past turns before answering and
records the turn (the citizen's message and the reply, together) after; nothing else
about storage reaches it. `SqlConversationStore` keeps them in the database through
`chatbot.escalation.conversations` (which masks what citizens type)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from chatbot.dialogue.core import PastTurn
from chatbot.dialogue.policy import ReplyType
from chatbot.escalation.conversations import StoredReply, get_conversation, record_turn
from chatbot.storage.models import Conversation


@dataclass(frozen=True)
class StoredConversation:
    language: str | None
    turns: list[PastTurn]


class ConversationStore(Protocol):
    def load(self, conversation_id: str) -> StoredConversation | None:
        """The conversation, or None when there is none with this id."""
        ...

    def record(self, *, conversation_id: str, question: str, reply: StoredReply,
               language: str | None, detected_language: str | None, now: datetime) -> None:
        """Store one turn whole (the message and its reply) or not at all."""
        ...


class SqlConversationStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def load(self, conversation_id: str) -> StoredConversation | None:
        conversation = get_conversation(self.session, conversation_id)
        if conversation is None:
            return None
        stored = StoredConversation(conversation.language, past_turns(conversation))
        # End the read before the model runs: a writing session's transaction holds
        # SQLite's write lock, and every other chat and ticket would wait for it.
        self.session.commit()
        return stored

    def record(self, *, conversation_id: str, question: str, reply: StoredReply,
               language: str | None, detected_language: str | None, now: datetime) -> None:
        record_turn(self.session, conversation_id=conversation_id, question=question,
                    reply=reply, language=language, detected_language=detected_language,
                    now=now)


def past_turns(conversation: Conversation) -> list[PastTurn]:
    """Each citizen message with the reply that followed it."""
    turns: list[PastTurn] = []
    question: str | None = None
    for message in conversation.messages:
        if message.role == "citizen":
            if question is not None:
                turns.append(PastTurn(question, None, None, confident=False))
            question = message.text
        elif question is not None:
            turns.append(PastTurn(
                question=question,
                reply_type=ReplyType(message.reply_type) if message.reply_type else None,
                article_id=message.article_id,
                confident=bool(message.topic_confident)))
            question = None
    if question is not None:
        turns.append(PastTurn(question, None, None, confident=False))
    return turns
