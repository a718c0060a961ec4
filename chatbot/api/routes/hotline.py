"""Is the hotline open now, and when does it open next."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from chatbot.api.deps import ComposerDep, HotlineDep, NowDep
from chatbot.api.mappers import hotline_public
from chatbot.api.schemas.chat import HotlinePublic
from chatbot.language import SUPPORTED_LANGUAGES

router = APIRouter(prefix="/api/v1", tags=["hotline"])


@router.get("/hotline", response_model=HotlinePublic, summary="Hotline status",
            responses={422: {"description": "Unknown lang"}})
def hotline(now: NowDep, hours: HotlineDep, composer: ComposerDep,
            lang: Annotated[str, Query(pattern="^(" + "|".join(SUPPORTED_LANGUAGES) + ")$")]
            = "de") -> HotlinePublic:
    status = hours.status(now)
    return hotline_public(status, composer.hotline(lang, status))
