"""One chat turn: language, small talk, follow-up context, retrieval, policy, reply, storage."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from chatbot.dialogue import followup, intents
from chatbot.dialogue.compose import Composer
from chatbot.dialogue.hotline import Hotline, HotlineStatus
from chatbot.dialogue.intents import normalise
from chatbot.dialogue.policy import (
    CLARIFY_MIN,
    SWITCH_MIN_CONFIDENCE,
    SWITCH_MIN_WORDS,
    Decision,
    ReplyType,
    decide,
)
from chatbot.errors import InvalidQueryError, NotFoundError
from chatbot.escalation.conversations import get_conversation, record_message
from chatbot.language import SUPPORTED_LANGUAGES, LanguageGuess
from chatbot.retrieval import ArticleHit
from chatbot.search_service import SearchService

MAX_MESSAGE_CHARS = 1000
DEFAULT_APPOINTMENT_SERVICE = "buergerservice"

UrlFor = Callable[[str, str], str]
"""(article_id, lang) -> a public link to the article."""


@dataclass(frozen=True)
class Source:
    article_id: str
    title: str
    url: str


@dataclass(frozen=True)
class ChatReply:
    conversation_id: str
    language: LanguageGuess
    type: ReplyType
    text: str
    confidence: float
    turn: int
    sources: list[Source] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    choices: list[Source] = field(default_factory=list)
    hotline: HotlineStatus | None = None
    topic: ArticleHit | None = None
    """The article the reply is about (the answer, the first choice, the escalation
    topic); stored with the reply for the editors' content-gap report."""


def validate_message(message: str) -> str:
    text = message.strip()
    if not text:
        raise InvalidQueryError("message must not be empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidQueryError(f"message is longer than {MAX_MESSAGE_CHARS} characters")
    return text


class ChatService:
    def __init__(self, search: SearchService, composer: Composer, hotline: Hotline) -> None:
        self.search = search
        self.composer = composer
        self.hotline = hotline

    # --- language -------------------------------------------------------------------

    def language(self, message: str, *, lang: str | None, previous: str | None
                 ) -> LanguageGuess:
        """Caller's `lang` wins; otherwise the conversation's language sticks unless the
        message is clearly in another one."""
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

    # --- a turn ---------------------------------------------------------------------

    def reply(self, session: Session, *, message: str, conversation_id: str | None,
              lang: str | None, now: datetime, url_for: UrlFor) -> ChatReply:
        """Validate, answer and store one citizen message; raises InvalidQueryError or
        NotFoundError before anything is stored."""
        text = validate_message(message)
        if lang is not None and lang not in SUPPORTED_LANGUAGES:
            raise InvalidQueryError(
                f"unknown lang {lang!r}; use one of {', '.join(SUPPORTED_LANGUAGES)}")
        previous_lang: str | None = None
        history: list[str] = []
        if conversation_id is not None:
            conversation = get_conversation(session, conversation_id)
            if conversation is None:
                raise NotFoundError(f"unknown conversation_id {conversation_id!r}")
            previous_lang = conversation.language
            history = [m.text for m in conversation.messages if m.role == "citizen"]
        else:
            conversation_id = uuid.uuid4().hex
        language = self.language(text, lang=lang, previous=previous_lang)
        reply = self._compose(text, language, history, now, url_for)
        stored_lang = language.code if language.supported else None
        topic: ArticleHit | None = reply.get("topic")
        record_message(session, conversation_id=conversation_id, role="citizen", text=text,
                       language=stored_lang, detected_language=language.code, now=now)
        record_message(session, conversation_id=conversation_id, role="assistant",
                       text=reply["text"], language=stored_lang, now=now,
                       reply_type=reply["type"].value,
                       article_id=topic.article_id if topic else None,
                       department=topic.department if topic else None,
                       confidence=float(reply["confidence"]))
        return ChatReply(conversation_id=conversation_id, language=language,
                         turn=len(history) + 1, **reply)

    def _compose(self, text: str, language: LanguageGuess, history: list[str], now: datetime,
                 url_for: UrlFor) -> dict[str, Any]:
        status = self.hotline.status(now)
        if not language.supported:
            return {"type": ReplyType.UNSUPPORTED, "confidence": language.confidence,
                    "text": self.composer.render(
                        "de", "unsupported", hotline_de=self.composer.hotline("de", status),
                        hotline_en=self.composer.hotline("en", status)),
                    "actions": self._escalation_actions(None, status), "hotline": status}
        code = language.code
        kind = intents.small_talk(text)
        if kind is not None:
            return {"type": ReplyType.ANSWER, "confidence": 1.0,
                    "text": self.composer.render(code, "smalltalk", kind=kind.value)}
        query = followup.retrieval_query(text, _topic_question(history), None)
        hits = self.search.search(query, top_k=5, lang=code).hits
        if intents.asks_for_human(text):
            topic = hits[0] if hits and hits[0].score >= CLARIFY_MIN else None
            return self._escalate(code, topic, status, human=True, url_for=url_for,
                                  confidence=1.0)
        decision = decide(hits)
        if decision.type is ReplyType.ANSWER:
            return self._answer(code, decision, url_for)
        if decision.type is ReplyType.CLARIFY:
            choices = [_source(h, url_for) for h in decision.hits]
            return {"type": ReplyType.CLARIFY, "confidence": decision.confidence,
                    "text": self.composer.render(code, "clarify", choices=choices),
                    "sources": choices, "choices": choices, "topic": decision.hits[0]}
        topic = decision.hits[0] if decision.hits and decision.confidence >= CLARIFY_MIN else None
        return self._escalate(code, topic, status, human=False, url_for=url_for,
                              confidence=decision.confidence)

    def _answer(self, code: str, decision: Decision, url_for: UrlFor) -> dict[str, Any]:
        hit = decision.hits[0]
        section, fallback = hit.section, hit.lang != code
        if fallback and hit.lang != "de":
            section = self._german_text(hit) or section
        source = _source(hit, url_for)
        text = self.composer.render(code, "answer", title=hit.title, section=section,
                                    url=source.url, fallback=fallback)
        return {"type": ReplyType.ANSWER, "confidence": decision.confidence, "text": text,
                "sources": [source], "topic": hit}

    def _german_text(self, hit: ArticleHit) -> str | None:
        index = self.search.index
        if index is None:
            return None
        german = index.article_versions(hit.article_id).get("de")
        return german.body.strip() if german else None

    def _escalate(self, code: str, topic: ArticleHit | None, status: HotlineStatus, *,
                  human: bool, url_for: UrlFor, confidence: float) -> dict[str, Any]:
        actions = self._escalation_actions(topic, status)
        text = self.composer.render(
            code, "escalate", human_requested=human,
            appointment=any(a["kind"] == "appointment" for a in actions),
            hotline=self.composer.hotline(code, status))
        return {"type": ReplyType.ESCALATE, "confidence": confidence, "text": text,
                "sources": [_source(topic, url_for)] if topic else [], "actions": actions,
                "hotline": status, "topic": topic}

    @staticmethod
    def _escalation_actions(topic: ArticleHit | None, status: HotlineStatus
                            ) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = [{
            "kind": "ticket", "method": "POST", "href": "/api/v1/tickets",
            "department": topic.department if topic else None,
            "topic": topic.title if topic else None,
        }]
        if topic is None or topic.appointment_service:
            service = topic.appointment_service if topic else DEFAULT_APPOINTMENT_SERVICE
            actions.append({"kind": "appointment", "service": service,
                            "href": f"/api/v1/appointments/slots?service={service}"})
        actions.append({"kind": "hotline", "phone": status.phone, "open": status.open,
                        "next_open": status.next_open.isoformat()})
        return actions


def _topic_question(history: list[str]) -> str | None:
    """The last citizen message that set a topic (not itself a short follow-up)."""
    for question in reversed(history):
        if not followup.refers_back(question) or len(question.split()) > followup.SHORT_WORDS:
            return question
    return history[-1] if history else None


def _source(hit: ArticleHit, url_for: UrlFor) -> Source:
    return Source(article_id=hit.article_id, title=hit.title,
                  url=hit.url or url_for(hit.article_id, hit.lang))
