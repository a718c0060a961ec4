"""Request and response bodies of tickets: the citizen's and the agents' side.

Families: `XCreate` (what a client sends), `XPublic` (what a citizen may see, with
their token), `XAgent` (everything an authenticated agent sees).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from chatbot.api.constraints import RequestBody
from chatbot.api.schemas.common import (
    MAX_MESSAGE_CHARS,
    MAX_NAME_CHARS,
    ContactCreate,
    ContactPublic,
    consent_given,
    not_blank,
    validate_lang,
)

MAX_TOPIC_CHARS = 200
MAX_TRANSCRIPT_LINES = 200
MAX_TRANSCRIPT_LINE_CHARS = 4000
TicketStatus = Literal["open", "in_progress", "waiting_for_citizen", "resolved", "closed"]


class TicketContactCreate(ContactCreate):
    """A ticket needs a way to answer: at least one of the two."""

    @model_validator(mode="after")
    def _some_contact(self) -> TicketContactCreate:
        if not (self.email or self.phone):
            raise ValueError("give an e-mail address or a phone number")
        return self


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

    _message = field_validator("message")(not_blank)
    _consent = field_validator("consent")(consent_given)
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
    status_page_url: str = Field(
        description="The citizen's status page; the access token rides in the URL fragment "
                    "(`#code=...`), which browsers never send to a server")


class StatusChangePublic(BaseModel):
    status: TicketStatus
    at: datetime


class ReplyPublic(BaseModel):
    text: str
    at: datetime


class MessagePublic(BaseModel):
    """One message between the citizen service and the citizen, oldest first."""

    author: Literal["agent", "citizen"]
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
    messages: list[MessagePublic] = Field(
        description="The agents' replies and the citizen's own messages, oldest first")
    can_answer: bool = Field(description="The citizen may write back (the ticket is not "
                                         "closed): POST .../messages")


class TicketSummaryAgent(BaseModel):
    reference: str
    status: TicketStatus
    department: str
    topic: str | None = Field(description="The subject: the chat's article title or the "
                                          "question that escalated")
    preferred_language: str
    detected_language: str | None
    created_at: datetime
    updated_at: datetime
    age_hours: float
    assignee: str | None = Field(description="The agent working on it; null: nobody yet")
    assigned_at: datetime | None


class TicketListAgent(BaseModel):
    total: int
    items: list[TicketSummaryAgent]


class TicketEventAgent(BaseModel):
    kind: Literal["created", "status", "note", "reply", "assigned", "citizen_reply"]
    from_status: str | None
    to_status: str | None
    body: str | None = Field(description="A note's or reply's text, a status change's "
                                         "comment, an assignment's assignee (null: none)")
    actor: str
    at: datetime


class TextPartAgent(BaseModel):
    text: str
    href: str | None = Field(description="A link (http(s) or this service's path) "
                                         "to show the text as; null: plain text")


class TranscriptLinePublic(BaseModel):
    role: str
    text: str = Field(description="As stored (the chat's replies are Markdown)")
    parts: list[TextPartAgent] = Field(description="The text to show: Markdown as plain "
                                                   "text and links")


class TicketAgent(TicketSummaryAgent):
    message: str
    contact: TicketContactPublic
    conversation_id: str | None
    transcript: list[TranscriptLinePublic] | None
    closed_at: datetime | None
    events: list[TicketEventAgent]


class NotificationAgent(BaseModel):
    """One e-mail to the citizen about this ticket, as the outbox has it."""

    id: int
    kind: Literal["reply", "status"]
    to_status: str | None
    state: Literal["pending", "sent", "failed", "skipped"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="While pending")
    sent_at: datetime | None
    last_error: str | None


class TicketStatusUpdate(RequestBody):
    status: TicketStatus
    comment: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)


class TicketTextCreate(RequestBody):
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)

    _text = field_validator("text")(not_blank)


class TicketAssignmentUpdate(RequestBody):
    assignee: str | None = Field(max_length=64, description="An active agent's name; null "
                                                            "puts the ticket back in the queue")


class CitizenMessageCreate(RequestBody):
    """The citizen's answer from the status page."""

    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)

    _text = field_validator("text")(not_blank)
