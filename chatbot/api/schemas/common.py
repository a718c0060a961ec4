"""What several resources' bodies share: the base of every request body (see
`chatbot.api.constraints`), language codes, contact details, text rules."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from chatbot.api.constraints import RequestBody
from chatbot.escalation.contact import (
    MAX_EMAIL_CHARS,
    MAX_PHONE_CHARS,
    normalise_email,
    normalise_phone,
)
from chatbot.language import SUPPORTED_LANGUAGES

MAX_MESSAGE_CHARS = 5000
MAX_NAME_CHARS = 200


def validate_lang(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unknown language {value!r}; use one of {', '.join(SUPPORTED_LANGUAGES)}")
    return value


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    return value.strip()


def consent_given(value: bool) -> bool:
    if value is not True:
        raise ValueError("consent to store the data is required (true)")
    return value


class ContactCreate(RequestBody):
    """Where the city answers; stored as given, never masked."""

    email: str | None = Field(default=None, max_length=MAX_EMAIL_CHARS,
                              examples=["erika.mustermann@example.org"])
    phone: str | None = Field(default=None, max_length=MAX_PHONE_CHARS,
                              examples=["+49 221 1234567"])

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value) if value is not None else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value is not None else None


class ContactPublic(BaseModel):
    email: str | None
    phone: str | None
