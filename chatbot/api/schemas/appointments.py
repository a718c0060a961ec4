"""Request and response bodies of appointments: services, free slots, bookings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from chatbot.api.constraints import RequestBody
from chatbot.api.schemas.common import (
    MAX_NAME_CHARS,
    ContactCreate,
    ContactPublic,
    consent_given,
    not_blank,
    validate_lang,
)

MAX_NOTE_CHARS = 1000


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

    _name = field_validator("name")(not_blank)
    _consent = field_validator("consent")(consent_given)
    _language = field_validator("preferred_language")(validate_lang)


class AppointmentCreated(BaseModel):
    reference: str = Field(examples=["TA-2026-000123"])
    cancel_token: str = Field(description="Needed to see or cancel the booking (send it in "
                                          "the X-Access-Token header); shown once")
    service: str
    start: datetime
    end: datetime
    status: Literal["booked", "cancelled"]
    ics_url: str = Field(description="Downloads the .ics file; carries a read-only token "
                                     "that cannot cancel or look the booking up")
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
