"""One stored chat turn: validate, choose the language, ask the dialogue core, store
(through a `ConversationStore`).

The decisions themselves are in `chatbot.dialogue.core` (no storage, no HTTP), which
`chatbot eval chat` calls too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chatbot.dialogue.compose import Composer
from chatbot.dialogue.conversation_store import ConversationStore
from chatbot.dialogue.core import Dialogue, PastTurn, UrlFor
from chatbot.dialogue.hotline import Hotline, HotlineStatus
from chatbot.dialogue.policy import (
    SWITCH_MIN_CONFIDENCE,
    SWITCH_MIN_WORDS,
    PolicyProfile,
    ReplyType,
)
from chatbot.dialogue.reply import Action, Reply, Source
from chatbot.errors import InvalidQueryError, NotFoundError
from chatbot.escalation.conversations import StoredReply
from chatbot.language import SUPPORTED_LANGUAGES, LanguageGuess
from chatbot.languages import load_languages
from chatbot.retrieval import ArticleHit
from chatbot.retrieval.service import SearchService
from chatbot.text import normalise

MAX_MESSAGE_CHARS = 1000


@dataclass(frozen=True)
class ChatReply:
    conversation_id: str
    language: LanguageGuess
    turn: int
    reply: Reply

    # The reply's fields, read as the turn's own.
    @property
    def type(self) -> ReplyType:
        return self.reply.type

    @property
    def text(self) -> str:
        return self.reply.text

    @property
    def confidence(self) -> float:
        return self.reply.confidence

    @property
    def sources(self) -> list[Source]:
        return self.reply.sources

    @property
    def choices(self) -> list[Source]:
        return self.reply.choices

    @property
    def actions(self) -> list[Action]:
        return self.reply.actions

    @property
    def hotline(self) -> HotlineStatus | None:
        return self.reply.hotline

    @property
    def topic(self) -> ArticleHit | None:
        return self.reply.topic


def validate_message(message: str) -> str:
    text = message.strip()
    if not text:
        raise InvalidQueryError("message must not be empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidQueryError(f"message is longer than {MAX_MESSAGE_CHARS} characters")
    return text


def build_dialogue(search: SearchService, composer: Composer, hotline: Hotline, *,
                   policy: PolicyProfile | None = None, case_status: bool = False) -> Dialogue:
    """The dialogue with the policy of the search's model profile unless one is given."""
    return Dialogue(searcher=search, composer=composer, policy=policy or search.profile.policy,
                    languages=load_languages(SUPPORTED_LANGUAGES), contact_marker=hotline.phone,
                    case_status=case_status)


class ChatService:
    def __init__(self, search: SearchService, composer: Composer, hotline: Hotline, *,
                 policy: PolicyProfile | None = None, case_status: bool = False) -> None:
        self.search = search
        self.hotline = hotline
        self.dialogue = build_dialogue(search, composer, hotline, policy=policy,
                                       case_status=case_status)

    def language(self, message: str, *, lang: str | None, previous: str | None
                 ) -> LanguageGuess:
        """Caller's `lang` wins; otherwise the conversation's language sticks unless the
        message is clearly in another one (a lone word such as "Termin" never switches)."""
        if lang is not None:
            return self.search.detect(message, lang=lang)
        guess = self.search.detect(message, prior=previous)
        if previous is None or guess.code == previous:
            return guess
        clear = (guess.confidence >= SWITCH_MIN_CONFIDENCE
                 and len(normalise(message).split()) >= SWITCH_MIN_WORDS)
        if clear:
            return guess
        return LanguageGuess(code=previous, confidence=guess.confidence, supported=True)

    def text_language(self, message: str, reply_language: LanguageGuess) -> str | None:
        """The language the message is clearly written in, when the reply goes out in
        another (the caller's `lang`, or the conversation's for a short message): the
        evidence is measured in the text's own language."""
        guess = self.search.detect(message)
        if (guess.supported and guess.code != reply_language.code
                and guess.confidence >= SWITCH_MIN_CONFIDENCE):
            return guess.code
        return None

    def reply(self, store: ConversationStore, *, message: str, conversation_id: str | None,
              lang: str | None, now: datetime, url_for: UrlFor) -> ChatReply:
        """Validate, answer and store one citizen message; raises InvalidQueryError or
        NotFoundError before anything is stored."""
        text = validate_message(message)
        if lang is not None and lang not in SUPPORTED_LANGUAGES:
            raise InvalidQueryError(
                f"unknown lang {lang!r}; use one of {', '.join(SUPPORTED_LANGUAGES)}")
        previous_lang: str | None = None
        history: list[PastTurn] = []
        if conversation_id is not None:
            conversation = store.load(conversation_id)
            if conversation is None:
                raise NotFoundError(f"unknown conversation_id {conversation_id!r}")
            previous_lang = conversation.language
            history = conversation.turns
        else:
            conversation_id = uuid.uuid4().hex
        language = self.language(text, lang=lang, previous=previous_lang)
        reply = self.dialogue.respond(text, language, history, self.hotline.status(now),
                                      url_for, text_lang=self.text_language(text, language))
        topic = reply.topic
        # The dialogue used the message as typed; the SQL store keeps it masked.
        store.record(conversation_id=conversation_id, question=text,
                     language=language.code if language.supported else None,
                     detected_language=language.code, now=now,
                     reply=StoredReply(text=reply.text, reply_type=reply.type.value,
                                       article_id=topic.article_id if topic else None,
                                       department=topic.department if topic else None,
                                       confidence=float(reply.confidence),
                                       topic_confident=reply.confident_topic))
        return ChatReply(conversation_id=conversation_id, language=language,
                         turn=len(history) + 1, reply=reply)
