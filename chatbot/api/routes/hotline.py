"""Is the hotline open now, and when does it open next."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from chatbot.api.deps import NowDep
from chatbot.api.schemas_chat import HotlinePublic
from chatbot.language import SUPPORTED_LANGUAGES

router = APIRouter(prefix="/api/v1", tags=["hotline"])


@router.get("/hotline", response_model=HotlinePublic, summary="Hotline status",
            responses={422: {"description": "Unknown lang"}})
def hotline(request: Request, now: NowDep,
            lang: Annotated[str, Query(pattern="^(" + "|".join(SUPPORTED_LANGUAGES) + ")$")]
            = "de") -> HotlinePublic:
    status = request.app.state.hotline.status(now)
    return HotlinePublic(open=status.open, next_open=status.next_open,
                         closes_at=status.closes_at, phone=status.phone,
                         text=request.app.state.composer.hotline(lang, status))
