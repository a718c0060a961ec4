"""Request and response bodies of the ticket, appointment and agent endpoints.

Families: `XCreate` (what a client sends), `XPublic` (what a citizen may see, with
their token), `XAgent` (everything an authenticated agent sees).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from chatbot.api.constraints import RequestBody
from chatbot.api.schemas import validate_lang
from chatbot.escalation.contact import (
    MAX_EMAIL_CHARS,
    MAX_PHONE_CHARS,
    normalise_email,
    normalise_phone,
)

MAX_MESSAGE_CHARS = 5000
MAX_TOPIC_CHARS = 200
MAX_NAME_CHARS = 200
MAX_NOTE_CHARS = 1000
MAX_TRANSCRIPT_LINES = 200
MAX_TRANSCRIPT_LINE_CHARS = 4000
TicketStatus = Literal["open", "in_progress", "waiting_for_citizen", "resolved", "closed"]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    return value.strip()


def _consent_given(value: bool) -> bool:
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


class TicketContactCreate(ContactCreate):
    """A ticket needs a way to answer: at least one of the two."""

    @model_validator(mode="after")
    def _some_contact(self) -> TicketContactCreate:
        if not (self.email or self.phone):
            raise ValueError("give an e-mail address or a phone number")
        return self


class ContactPublic(BaseModel):
    email: str | None
    phone: str | None


class TicketContactPublic(ContactPublic):
    name: str | None


class TranscriptLineCreate(RequestBody):
    role: Literal["citizen", "assistant"]
    text: str = Field(max_length=MAX_TRANSCRIPT_LINE_CHARS)


class TicketCreate(RequestBody):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS,
                         description="The citizen's request in their own words")
    topic: str | None = Field(default=None, max_length=MAX_TOPIC_CHARS)
    department: str | None = Field(default=None, max_length=64,
                                   description="Queue; default `allgemein`",
                                   examples=["buergerservice"])
    name: str | None = Field(default=None, max_length=MAX_NAME_CHARS,
                             description="How to address the citizen; optional")
    contact: TicketContactCreate
    preferred_language: str = Field(default="de", examples=["de", "en", "tr"])
    consent: bool = Field(description="Explicit consent to store the data; must be true")
    conversation_id: str | None = Field(
        default=None, max_length=64,
        description="Chat conversation to attach (transcript and detected language)")
    transcript: list[TranscriptLineCreate] | None = Field(
        default=None, max_length=MAX_TRANSCRIPT_LINES,
        description="The chat as the widget has it; a stored conversation takes precedence")
    detected_language: str | None = None

    _message = field_validator("message")(_not_blank)
    _consent = field_validator("consent")(_consent_given)
    _language = field_validator("preferred_language")(validate_lang)

    @field_validator("name")
    @classmethod
    def _optional_name(cls, value: str | None) -> str | None:
        # A blank optional field from a form means "not given".
        return value.strip() or None if value is not None else None

    @field_validator("detected_language")
    @classmethod
    def _language_code(cls, value: str | None) -> str | None:
        # Unsupported languages are detected too (that is why the chat escalated).
        if value is not None and not re.fullmatch(r"[a-z]{2,3}", value):
            raise ValueError("a two- or three-letter language code, e.g. de or ckb")
        return value



class TicketCreated(BaseModel):
    reference: str = Field(examples=["KR-2026-004711"])
    access_token: str = Field(description="Needed to see the ticket's status; shown once")
    status: TicketStatus
    created_at: datetime
    status_url: str


class StatusChangePublic(BaseModel):
    status: TicketStatus
    at: datetime


class ReplyPublic(BaseModel):
    text: str
    at: datetime


class TicketPublic(BaseModel):
    """What the citizen sees with the access token."""

    reference: str
    status: TicketStatus
    department: str
    topic: str | None
    preferred_language: str
    created_at: datetime
    updated_at: datetime
    history: list[StatusChangePublic]
    replies: list[ReplyPublic]


class TicketSummaryAgent(BaseModel):
    reference: str
    status: TicketStatus
    department: str
    topic: str | None
    preferred_language: str
    detected_language: str | None
    created_at: datetime
    updated_at: datetime
    age_hours: float


class TicketListAgent(BaseModel):
    total: int
    items: list[TicketSummaryAgent]


class TicketEventAgent(BaseModel):
    kind: Literal["created", "status", "note", "reply"]
    from_status: str | None
    to_status: str | None
    body: str | None
    actor: str
    at: datetime


class TranscriptLinePublic(BaseModel):
    role: str
    text: str


class TicketAgent(TicketSummaryAgent):
    message: str
    contact: TicketContactPublic
    conversation_id: str | None
    transcript: list[TranscriptLinePublic] | None
    closed_at: datetime | None
    events: list[TicketEventAgent]


class TicketStatusUpdate(RequestBody):
    status: TicketStatus
    comment: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)


class TicketTextCreate(RequestBody):
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)

    _text = field_validator("text")(_not_blank)


class ServicePublic(BaseModel):
    name: str
    title: str
    slot_minutes: int
    counters: int
    booking_horizon_days: int
    weekdays: list[str]


class SlotPublic(BaseModel):
    start: datetime
    end: datetime
    available: int


class SlotListPublic(BaseModel):
    service: str
    timezone: str
    from_date: date = Field(serialization_alias="from")
    days: int
    slots: list[SlotPublic]


class AppointmentCreate(RequestBody):
    service: str = Field(min_length=1, max_length=64, examples=["buergerservice"])
    start: datetime = Field(description="A slot's start; without an offset it is local "
                                        "time in Europe/Berlin")
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    contact: ContactCreate = Field(default_factory=ContactCreate)
    preferred_language: str = "de"
    consent: bool
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)

    _name = field_validator("name")(_not_blank)
    _consent = field_validator("consent")(_consent_given)
    _language = field_validator("preferred_language")(validate_lang)


class AppointmentCreated(BaseModel):
    reference: str = Field(examples=["TA-2026-000123"])
    cancel_token: str = Field(description="Needed to see, download or cancel; shown once")
    service: str
    start: datetime
    end: datetime
    status: Literal["booked", "cancelled"]
    ics_url: str
    status_url: str


class AppointmentPublic(BaseModel):
    reference: str
    service: str
    service_title: str
    start: datetime
    end: datetime
    status: Literal["booked", "cancelled"]


class AppointmentAgent(AppointmentPublic):
    counter_number: int
    name: str
    contact: ContactPublic
    preferred_language: str
    note: str | None
    created_at: datetime
    cancelled_at: datetime | None


class AgentPublic(BaseModel):
    name: str
    role: str
