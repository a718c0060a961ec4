"""Request and response bodies of the chat API (`POST /api/v1/chat` fields are fixed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from chatbot.api.constraints import MAX_INT32, RequestBody
from chatbot.api.schemas.common import validate_lang
from chatbot.dialogue.service import MAX_MESSAGE_CHARS
from chatbot.language import SUPPORTED_LANGUAGES


class ChatCreate(RequestBody):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS,
                         description=f"The citizen's message, 1 to {MAX_MESSAGE_CHARS} characters")
    conversation_id: str | None = Field(default=None, max_length=64,
                                        description="From an earlier reply; omit to start")
    lang: str | None = Field(default=None, description="Overrides language detection",
                             examples=list(SUPPORTED_LANGUAGES))

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be empty or whitespace")
        return value

    _lang = field_validator("lang")(validate_lang)


class ChatLanguage(BaseModel):
    code: str
    confidence: float
    supported: bool


class ChatSource(BaseModel):
    article_id: str
    title: str
    url: str


class HotlinePublic(BaseModel):
    open: bool
    next_open: datetime
    closes_at: datetime | None = None
    phone: str
    text: str


class ChatPublic(BaseModel):
    conversation_id: str
    turn: int = Field(description="1 for the first message; use it for feedback")
    language: ChatLanguage
    type: Literal["answer", "clarify", "escalate", "unsupported_language"]
    text: str
    sources: list[ChatSource]
    actions: list[dict[str, Any]] = Field(
        description='{"kind": "ticket" | "appointment" | "hotline" | "case_status" | '
                    '"defect_report" | "defect_status", ...}')
    confidence: float
    choices: list[ChatSource] = Field(default_factory=list,
                                      description="clarify: the topics to choose from")
    hotline: HotlinePublic | None = None


class FeedbackCreate(RequestBody):
    conversation_id: str = Field(min_length=1, max_length=64)
    turn: int = Field(ge=1, le=MAX_INT32)
    helpful: bool
    comment: str | None = Field(default=None, max_length=2000)


class FeedbackPublic(BaseModel):
    id: int
    conversation_id: str
    turn: int
    helpful: bool
