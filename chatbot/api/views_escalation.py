"""Mapping of back-office models to response bodies, shared by the routers."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request

from chatbot.api.schemas_escalation import (
    AppointmentAgent,
    AppointmentPublic,
    ContactPublic,
    ReplyPublic,
    StatusChangePublic,
    TicketAgent,
    TicketContactPublic,
    TicketEventAgent,
    TicketPublic,
    TicketSummaryAgent,
    TranscriptLinePublic,
)
from chatbot.config import Settings
from chatbot.escalation.calendars import Calendars
from chatbot.escalation.clock import CITY_TIMEZONE
from chatbot.storage.models import Appointment, Ticket


def local(value: datetime) -> datetime:
    """Times go out in the city's timezone, with the offset, as citizens read them."""
    return value.astimezone(CITY_TIMEZONE)


def absolute_url(request: Request, settings: Settings, path: str) -> str:
    base = settings.public_base_url or str(request.base_url)
    return f"{base.rstrip('/')}{path}"


def ticket_public(ticket: Ticket) -> TicketPublic:
    return TicketPublic(
        reference=ticket.reference, status=ticket.status,
        department=ticket.department, topic=ticket.topic,
        preferred_language=ticket.preferred_language, created_at=local(ticket.created_at),
        updated_at=local(ticket.updated_at),
        history=[StatusChangePublic(status=e.to_status, at=local(e.created_at))
                 for e in ticket.events if e.kind in ("created", "status")],
        replies=[ReplyPublic(text=e.body or "", at=local(e.created_at))
                 for e in ticket.events if e.kind == "reply"],
    )


def ticket_summary(ticket: Ticket, now: datetime) -> TicketSummaryAgent:
    return TicketSummaryAgent(
        reference=ticket.reference, status=ticket.status,
        department=ticket.department, topic=ticket.topic,
        preferred_language=ticket.preferred_language,
        detected_language=ticket.detected_language, created_at=local(ticket.created_at),
        updated_at=local(ticket.updated_at),
        age_hours=round((now - ticket.created_at).total_seconds() / 3600, 2),
    )


def ticket_agent(ticket: Ticket, now: datetime) -> TicketAgent:
    summary = ticket_summary(ticket, now)
    return TicketAgent(
        **summary.model_dump(),
        message=ticket.message,
        contact=TicketContactPublic(email=ticket.contact_email, phone=ticket.contact_phone,
                                    name=ticket.contact_name),
        conversation_id=ticket.conversation_id,
        transcript=[TranscriptLinePublic(role=str(line.get("role", "")),
                                         text=str(line.get("text", "")))
                    for line in ticket.transcript] if ticket.transcript is not None else None,
        closed_at=local(ticket.closed_at) if ticket.closed_at else None,
        events=[TicketEventAgent(kind=e.kind, from_status=e.from_status,
                                 to_status=e.to_status, body=e.body, actor=e.actor_name,
                                 at=local(e.created_at))
                for e in ticket.events],
    )


def _status(appointment: Appointment) -> str:
    return "cancelled" if appointment.cancelled_at is not None else "booked"


def appointment_public(appointment: Appointment, calendars: Calendars) -> AppointmentPublic:
    calendar = calendars.service(appointment.service)
    return AppointmentPublic(
        reference=appointment.reference, service=appointment.service,
        service_title=(calendar.title_in(appointment.preferred_language) if calendar
                       else appointment.service),
        start=local(appointment.slot_start), end=local(appointment.slot_end),
        status=_status(appointment),
    )


def appointment_agent(appointment: Appointment, calendars: Calendars) -> AppointmentAgent:
    return AppointmentAgent(
        **appointment_public(appointment, calendars).model_dump(),
        counter_number=appointment.counter_number, name=appointment.name,
        contact=ContactPublic(email=appointment.contact_email, phone=appointment.contact_phone),
        preferred_language=appointment.preferred_language, note=appointment.note,
        created_at=local(appointment.created_at),
        cancelled_at=local(appointment.cancelled_at) if appointment.cancelled_at else None,
    )
