"""The citizens' chat: one message in, an answer / clarify / escalate reply out."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from chatbot.api.chat_mapping import actions_public
from chatbot.api.deps import DbWriteSession, NowDep, SearchServiceDep, SettingsDep
from chatbot.api.schemas_chat import (
    ChatCreate,
    ChatLanguage,
    ChatPublic,
    ChatSource,
    FeedbackCreate,
    FeedbackPublic,
    HotlinePublic,
)
from chatbot.api.urls import article_url
from chatbot.dialogue.reply import Source
from chatbot.dialogue.service import ChatService
from chatbot.errors import (
    IndexIncompatibleError,
    IndexNotFoundError,
    InvalidQueryError,
    NotFoundError,
)
from chatbot.escalation.conversations import record_feedback

router = APIRouter(prefix="/api/v1/chat", tags=["chat"])


def _source(source: Source) -> ChatSource:
    return ChatSource(article_id=source.article_id, title=source.title, url=source.url)


@router.post(
    "", response_model=ChatPublic, summary="Send a chat message",
    responses={404: {"description": "Unknown conversation_id; nothing stored"},
               422: {"description": "Empty or too long message, invalid lang; nothing stored"},
               503: {"description": "No index built yet, or the model is loading"}},
)
def chat(body: ChatCreate, request: Request, search: SearchServiceDep,
               settings: SettingsDep, session: DbWriteSession, now: NowDep) -> ChatPublic:
    service = ChatService(search, request.app.state.composer, request.app.state.hotline,
                          policy_path=settings.policy_profile)

    def url_for(article_id: str, lang: str) -> str:
        return article_url(request, settings, article_id, lang)

    try:
        # A sync route: FastAPI runs it in the thread pool (embedding is CPU-bound).
        reply = service.reply(session, message=body.message,
                              conversation_id=body.conversation_id, lang=body.lang, now=now,
                              url_for=url_for)
    except InvalidQueryError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except (IndexNotFoundError, IndexIncompatibleError) as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from exc
    hotline = None
    if reply.hotline is not None:
        hotline = HotlinePublic(
            open=reply.hotline.open, next_open=reply.hotline.next_open,
            closes_at=reply.hotline.closes_at, phone=reply.hotline.phone,
            text=request.app.state.composer.hotline(
                reply.language.code if reply.language.supported else "de", reply.hotline))
    return ChatPublic(
        conversation_id=reply.conversation_id, turn=reply.turn,
        language=ChatLanguage(code=reply.language.code,
                              confidence=round(reply.language.confidence, 4),
                              supported=reply.language.supported),
        type=reply.type.value, text=reply.text, sources=[_source(s) for s in reply.sources],
        actions=actions_public(reply.actions, request.app.state.calendars),
        confidence=round(reply.confidence, 4),
        choices=[_source(s) for s in reply.choices], hotline=hotline,
    )


@router.post(
    "/feedback", response_model=FeedbackPublic, status_code=status.HTTP_201_CREATED,
    summary="Rate a chat reply (stored for editors)",
    responses={404: {"description": "Unknown conversation or turn; nothing stored"}},
)
def feedback(body: FeedbackCreate, session: DbWriteSession, now: NowDep) -> FeedbackPublic:
    try:
        row = record_feedback(session, conversation_id=body.conversation_id, turn=body.turn,
                              helpful=body.helpful, comment=body.comment, now=now)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    return FeedbackPublic(id=row.id, conversation_id=row.conversation_id, turn=row.turn,
                          helpful=row.helpful)
