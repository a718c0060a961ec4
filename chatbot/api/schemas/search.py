"""Request and response bodies of the search API (field names are a fixed contract)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from chatbot.api.constraints import RequestBody
from chatbot.api.schemas.common import validate_lang
from chatbot.language import SUPPORTED_LANGUAGES

MAX_QUERY_CHARS = 1000
MAX_TOP_K = 20



class SearchCreate(RequestBody):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS,
                       description=f"The question, 1 to {MAX_QUERY_CHARS} characters")
    top_k: int = Field(default=5, ge=1, le=MAX_TOP_K)
    lang: str | None = Field(default=None, description="Overrides language detection",
                             examples=list(SUPPORTED_LANGUAGES))

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("query must not be empty or only whitespace")
        return value

    _lang = field_validator("lang")(validate_lang)


class LanguagePublic(BaseModel):
    code: str
    confidence: float
    supported: bool


class SearchHitPublic(BaseModel):
    article_id: str
    lang: str
    title: str
    department: str
    score: float = Field(ge=0, le=1)
    snippet: str
    url: str
    heading: str
    appointment_service: str | None


class SearchPublic(BaseModel):
    language: LanguagePublic
    hits: list[SearchHitPublic]
    index_version: str
