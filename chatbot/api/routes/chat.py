"""The citizens' chat: one message in, an answer / clarify / escalate reply out."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from chatbot.api.deps import (
    CalendarsDep,
    CaseStatusEnabledDep,
    ComposerDep,
    DbWriteSession,
    HotlineDep,
    MetricsDep,
    NowDep,
    SearchServiceDep,
    SettingsDep,
)
from chatbot.api.mappers import chat_public
from chatbot.api.schemas.chat import ChatCreate, ChatPublic, FeedbackCreate, FeedbackPublic
from chatbot.api.urls import article_url
from chatbot.dialogue.conversation_store import SqlConversationStore
from chatbot.dialogue.service import ChatService
from chatbot.escalation.feedback import record_feedback

router = APIRouter(prefix="/api/v1/chat", tags=["chat"])


@router.post(
    "", response_model=ChatPublic, summary="Send a chat message",
    responses={404: {"description": "Unknown conversation_id; nothing stored"},
               422: {"description": "Empty or too long message, invalid lang; nothing stored"},
               503: {"description": "No index built yet, or the model is loading"}},
)
def chat(body: ChatCreate, request: Request, search: SearchServiceDep, settings: SettingsDep,
         composer: ComposerDep, hotline: HotlineDep, calendars: CalendarsDep,
         session: DbWriteSession, now: NowDep, metrics: MetricsDep,
         case_status: CaseStatusEnabledDep) -> ChatPublic:
    service = ChatService(search, composer, hotline, case_status=case_status)

    def url_for(article_id: str, lang: str) -> str:
        return article_url(request, settings, article_id, lang)

    # A sync route: FastAPI runs it in the thread pool (embedding is CPU-bound).
    reply = service.reply(SqlConversationStore(session), message=body.message,
                          conversation_id=body.conversation_id, lang=body.lang, now=now,
                          url_for=url_for)
    topic = reply.reply.topic
    metrics.count_reply(reply.type.value,
                        reply.language.code if reply.language.supported else None,
                        topic.department if topic else None)
    return chat_public(reply, calendars, composer.hotline)


@router.post(
    "/feedback", response_model=FeedbackPublic, status_code=status.HTTP_201_CREATED,
    summary="Rate a chat reply (stored for editors)",
    responses={404: {"description": "Unknown conversation or turn; nothing stored"}},
)
def feedback(body: FeedbackCreate, session: DbWriteSession, now: NowDep) -> FeedbackPublic:
    row = record_feedback(session, conversation_id=body.conversation_id, turn=body.turn,
                          helpful=body.helpful, comment=body.comment, now=now)
    return FeedbackPublic(id=row.id, conversation_id=row.conversation_id, turn=row.turn,
                          helpful=row.helpful)
