"""Request and response bodies of `POST /api/v1/case-status`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, Field, field_validator

from chatbot.api.constraints import RequestBody
from chatbot.api.schemas.chat import HotlinePublic
from chatbot.api.schemas.common import validate_lang
from chatbot.casestatus import normalise_application_number, parse_date_of_birth
from chatbot.casestatus.base import CASE_KINDS, CASE_STATES, MAX_APPLICATION_NUMBER_CHARS
from chatbot.language import SUPPORTED_LANGUAGES

_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./-]*")


class CaseStatusLookup(RequestBody):
    application_number: str = Field(
        min_length=1, max_length=MAX_APPLICATION_NUMBER_CHARS + 20,
        description="As on the application receipt; case, spaces and hyphens do not matter")
    date_of_birth: str = Field(min_length=8, max_length=10,
                               description="DD.MM.YYYY, D.M.YYYY or YYYY-MM-DD",
                               examples=["01.02.1990", "1990-02-01"])
    lang: str = Field(default="de", description="Language of the answer text",
                      examples=list(SUPPORTED_LANGUAGES))

    @field_validator("application_number")
    @classmethod
    def _number(cls, value: str) -> str:
        value = value.strip()
        if (not _NUMBER.fullmatch(value)
                or len(normalise_application_number(value)) > MAX_APPLICATION_NUMBER_CHARS):
            raise ValueError("letters and digits as on the application receipt, at most "
                             f"{MAX_APPLICATION_NUMBER_CHARS}")
        return value

    @field_validator("date_of_birth")
    @classmethod
    def _birth(cls, value: str) -> str:
        if parse_date_of_birth(value) is None:
            raise ValueError("a date DD.MM.YYYY or YYYY-MM-DD")
        return value.strip()

    @property
    def birth_date(self) -> dt.date:
        parsed = parse_date_of_birth(self.date_of_birth)
        assert parsed is not None  # validated above
        return parsed

    _lang = field_validator("lang")(validate_lang)


class CaseStatusPublic(BaseModel):
    available: bool = Field(description="false: the departmental system could not be asked "
                                        "(the text sends the citizen to the hotline or a ticket)")
    found: bool = Field(description="The pair matched a case. A wrong date of birth and an "
                                    "unknown number give the same body")
    state: str | None = Field(default=None, examples=list(CASE_STATES))
    kind: str | None = Field(default=None, examples=list(CASE_KINDS))
    date: dt.date | None = Field(default=None, description="Since when the case is in `state`")
    text: str = Field(description="The answer in `lang`, for the citizen")
    hotline: HotlinePublic
    actions: list[dict[str, Any]] = Field(
        default_factory=list, description="When nothing was found or the system is down: "
                                          "ticket and hotline")
