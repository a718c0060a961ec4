"""Request and response bodies of the defect reports (`/api/v1/defect-reports`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from chatbot.api.constraints import RequestBody
from chatbot.api.schemas.common import consent_given, validate_lang
from chatbot.defects.reports import MAX_ADDRESS_CHARS, MAX_DESCRIPTION_CHARS
from chatbot.escalation.contact import MAX_EMAIL_CHARS, normalise_email
from chatbot.language import SUPPORTED_LANGUAGES

DefectState = Literal["pending", "forwarded", "failed", "ticket"]


class CategoryPublic(BaseModel):
    code: str
    name: str
    description: str = ""
    group: str = ""


class MapPublic(BaseModel):
    tile_url: str = Field(description="XYZ tile template with {z}, {x} and {y}")
    lat: float = Field(description="Where the map starts")
    lon: float
    zoom: int
    attribution: str = Field(description="Shown under the map")


class DefectServicesPublic(BaseModel):
    categories: list[CategoryPublic]
    forwarding: Literal["open311", "ticket"] = Field(
        description="open311: reports go to the utilities' endpoint; ticket: to the "
                    "configured department's queue")
    photo_max_bytes: int
    photo_types: list[str]
    map: MapPublic | None = Field(default=None, description="The map picker's tiles; null: "
                                                          "no map (the location is typed)")


class DefectReportCreate(RequestBody):
    category: str = Field(min_length=1, max_length=100,
                          description="A `code` from GET /api/v1/defect-reports/services")
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION_CHARS)
    address: str | None = Field(default=None, max_length=MAX_ADDRESS_CHARS,
                                description="Street and house number (or a landmark); "
                                            "required unless lat and lon are given")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    email: str | None = Field(default=None, max_length=MAX_EMAIL_CHARS,
                              description="For status updates from the utilities; optional")
    photo: str | None = Field(default=None, description="Base64 (or a data: URL) of a JPEG, "
                                                        "PNG or WebP image; optional")
    consent: bool = Field(description="Must be true: storing and forwarding is agreed to")
    lang: str = Field(default="de", examples=list(SUPPORTED_LANGUAGES))
    conversation_id: str | None = Field(default=None, max_length=64,
                                        pattern=r"^[A-Za-z0-9_-]{1,64}$")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return normalise_email(value)

    _consent = field_validator("consent")(consent_given)
    _lang = field_validator("lang")(validate_lang)


class DefectReportCreated(BaseModel):
    reference: str = Field(description="This service's number of the report")
    access_token: str = Field(description="For GET /api/v1/defect-reports/{reference} "
                                          "(X-Access-Token); shown once")
    state: DefectState
    service_request_id: str | None = Field(description="The Open311 endpoint's id, once "
                                                       "forwarded")
    ticket_reference: str | None = Field(description="The ticket, when no endpoint is set")
    text: str = Field(description="What to tell the citizen, in their language")


class DefectReportPublic(BaseModel):
    reference: str
    state: DefectState
    category: str
    service_request_id: str | None
    ticket_reference: str | None
    remote_status: str | None = Field(description='"open" or "closed" as the endpoint '
                                                  "last said")
    remote_status_notes: str | None
    created_at: datetime
    text: str


class DefectReportAgent(BaseModel):
    reference: str
    state: DefectState
    category: str
    address: str | None
    description: str
    language: str
    attempts: int
    last_error: str | None
    service_request_id: str | None
    ticket_reference: str | None
    remote_status: str | None
    remote_checked_at: datetime | None
    created_at: datetime
    forwarded_at: datetime | None
    has_photo: bool
