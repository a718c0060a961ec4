"""Domain objects as response bodies, for every router: the one place where the
API's JSON is built from search results, chat replies, tickets and appointments.

Times go out in the city's timezone; links come in as arguments (the routes know the
request's base URL), so these functions need neither a request nor the database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from chatbot.api.schemas.appointments import (
    AppointmentAgent,
    AppointmentCreated,
    AppointmentPublic,
    SlotPublic,
)
from chatbot.api.schemas.chat import ChatLanguage, ChatPublic, ChatSource, HotlinePublic
from chatbot.api.schemas.common import ContactPublic
from chatbot.api.schemas.search import LanguagePublic, SearchHitPublic, SearchPublic
from chatbot.api.schemas.tickets import (
    MessagePublic,
    NotificationAgent,
    ReplyPublic,
    StatusChangePublic,
    TextPartAgent,
    TicketAgent,
    TicketContactPublic,
    TicketCreated,
    TicketEventAgent,
    TicketPublic,
    TicketSummaryAgent,
    TranscriptLinePublic,
)
from chatbot.api.transcript_text import text_parts
from chatbot.dialogue.hotline import HotlineStatus
from chatbot.dialogue.reply import (
    Action,
    AppointmentAction,
    CaseStatusAction,
    DefectReportAction,
    DefectStatusAction,
    HotlineAction,
    Source,
    TicketAction,
)
from chatbot.dialogue.service import ChatReply
from chatbot.escalation.appointments import BookedAppointment, FreeSlot
from chatbot.escalation.calendars import Calendars
from chatbot.escalation.clock import CITY_TIMEZONE
from chatbot.escalation.tickets import CreatedTicket
from chatbot.retrieval.service import SearchResult
from chatbot.storage.models import Appointment, OutboxMessage, Ticket

ArticleUrl = Callable[[str, str], str]  # (article_id, lang) -> absolute URL


def local(value: datetime) -> datetime:
    """Times go out in the city's timezone, with the offset, as citizens read them."""
    return value.astimezone(CITY_TIMEZONE)


# --- search ---------------------------------------------------------------------------


def search_public(result: SearchResult, article_url: ArticleUrl) -> SearchPublic:
    return SearchPublic(
        language=LanguagePublic(code=result.language.code,
                                confidence=round(result.language.confidence, 4),
                                supported=result.language.supported),
        hits=[
            SearchHitPublic(
                article_id=hit.article_id, lang=hit.lang, title=hit.title,
                department=hit.department, score=hit.score, snippet=hit.snippet,
                url=hit.url or article_url(hit.article_id, hit.lang),
                heading=hit.heading, appointment_service=hit.appointment_service,
            )
            for hit in result.hits
        ],
        index_version=result.index_version,
    )


# --- chat -----------------------------------------------------------------------------


def _source(source: Source) -> ChatSource:
    return ChatSource(article_id=source.article_id, title=source.title, url=source.url)


def hotline_public(status: HotlineStatus, text: str) -> HotlinePublic:
    return HotlinePublic(open=status.open, next_open=status.next_open,
                         closes_at=status.closes_at, phone=status.phone, text=text)


def chat_public(reply: ChatReply, calendars: Calendars,
                hotline_text: Callable[[str, HotlineStatus], str]) -> ChatPublic:
    hotline = None
    if reply.hotline is not None:
        lang = reply.language.code if reply.language.supported else "de"
        hotline = hotline_public(reply.hotline, hotline_text(lang, reply.hotline))
    return ChatPublic(
        conversation_id=reply.conversation_id, turn=reply.turn,
        language=ChatLanguage(code=reply.language.code,
                              confidence=round(reply.language.confidence, 4),
                              supported=reply.language.supported),
        type=reply.type.value, text=reply.text, sources=[_source(s) for s in reply.sources],
        actions=actions_public(reply.actions, calendars),
        confidence=round(reply.confidence, 4),
        choices=[_source(s) for s in reply.choices], hotline=hotline,
    )


def actions_public(actions: list[Action], calendars: Calendars) -> list[dict[str, Any]]:
    """The reply's actions that the ticket and appointment APIs will accept: a
    department unknown to the calendars file becomes none (the agents triage), an
    appointment service without a calendar is left out (start-up logs both)."""
    public = []
    for action in actions:
        if isinstance(action, TicketAction) and action.department not in calendars.departments:
            action = TicketAction(department=None, topic=action.topic, message=action.message)
        if isinstance(action, AppointmentAction) and calendars.service(action.service) is None:
            continue
        public.append(action_public(action))
    return public


def action_public(action: Action) -> dict[str, Any]:
    """`{"kind": "ticket" | "appointment" | "hotline" | "case_status" | "defect_report" |
    "defect_status", ...}` (fixed contract; `case_status` added for the departmental
    look-up form, `defect_report`/`defect_status` for reports to the utilities)."""
    if isinstance(action, TicketAction):
        return {"kind": "ticket", "method": "POST", "href": "/api/v1/tickets",
                "department": action.department, "topic": action.topic,
                "message": action.message}
    if isinstance(action, AppointmentAction):
        return {"kind": "appointment", "service": action.service,
                "href": f"/api/v1/appointments/slots?service={quote(action.service)}"}
    if isinstance(action, HotlineAction):
        return {"kind": "hotline", "phone": action.phone, "open": action.open,
                "next_open": action.next_open.isoformat()}
    if isinstance(action, CaseStatusAction):
        return {"kind": "case_status", "method": "POST", "href": "/api/v1/case-status"}
    if isinstance(action, DefectReportAction):
        return {"kind": "defect_report", "method": "POST", "href": "/api/v1/defect-reports",
                "services": "/api/v1/defect-reports/services",
                "description": action.description}
    if isinstance(action, DefectStatusAction):
        return {"kind": "defect_status", "method": "GET", "href": "/api/v1/defect-reports/",
                "report_id": action.report_id}
    raise TypeError(f"unknown action {action!r}")


# --- tickets --------------------------------------------------------------------------


def ticket_created(created: CreatedTicket, status_url: str,
                   status_page_url: str) -> TicketCreated:
    """`status_page_url` without the token: it is added here as the URL's fragment."""
    ticket = created.ticket
    return TicketCreated(reference=ticket.reference, access_token=created.access_token,
                         status=ticket.status, created_at=local(ticket.created_at),
                         status_url=status_url,
                         status_page_url=f"{status_page_url}#code={created.access_token}")


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
        messages=[MessagePublic(author="agent" if e.kind == "reply" else "citizen",
                                text=e.body or "", at=local(e.created_at))
                  for e in ticket.events if e.kind in ("reply", "citizen_reply")],
        can_answer=ticket.status != "closed",
    )


def ticket_summary(ticket: Ticket, now: datetime) -> TicketSummaryAgent:
    return TicketSummaryAgent(
        reference=ticket.reference, status=ticket.status,
        department=ticket.department, topic=ticket.topic,
        preferred_language=ticket.preferred_language,
        detected_language=ticket.detected_language, created_at=local(ticket.created_at),
        updated_at=local(ticket.updated_at),
        age_hours=round((now - ticket.created_at).total_seconds() / 3600, 2),
        assignee=ticket.assignee.name if ticket.assignee is not None else None,
        assigned_at=local(ticket.assigned_at) if ticket.assigned_at else None,
    )


def ticket_agent(ticket: Ticket, now: datetime) -> TicketAgent:
    summary = ticket_summary(ticket, now)
    return TicketAgent(
        **summary.model_dump(),
        message=ticket.message,
        contact=TicketContactPublic(email=ticket.contact_email, phone=ticket.contact_phone,
                                    name=ticket.contact_name),
        conversation_id=ticket.conversation_id,
        transcript=[_transcript_line(line)
                    for line in ticket.transcript] if ticket.transcript is not None else None,
        closed_at=local(ticket.closed_at) if ticket.closed_at else None,
        events=[TicketEventAgent(kind=e.kind, from_status=e.from_status,
                                 to_status=e.to_status, body=e.body, actor=e.actor_name,
                                 at=local(e.created_at))
                for e in ticket.events],
    )


def _transcript_line(line: dict[str, Any]) -> TranscriptLinePublic:
    text = str(line.get("text", ""))
    return TranscriptLinePublic(
        role=str(line.get("role", "")), text=text,
        parts=[TextPartAgent(text=part.text, href=part.href) for part in text_parts(text)])


def notification_agent(message: OutboxMessage) -> NotificationAgent:
    return NotificationAgent(
        id=message.id, kind=message.kind, to_status=message.to_status, state=message.state,
        attempts=message.attempts, created_at=local(message.created_at),
        next_attempt_at=local(message.next_attempt_at) if message.state == "pending" else None,
        sent_at=local(message.sent_at) if message.sent_at else None,
        last_error=message.last_error)


# --- appointments ---------------------------------------------------------------------


def slot_public(free: FreeSlot) -> SlotPublic:
    return SlotPublic(start=local(free.slot.start), end=local(free.slot.end),
                      available=free.available)


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


def appointment_created(booked: BookedAppointment, calendars: Calendars, *, ics_url: str,
                        status_url: str) -> AppointmentCreated:
    public = appointment_public(booked.appointment, calendars)
    return AppointmentCreated(
        reference=public.reference, cancel_token=booked.cancel_token, service=public.service,
        start=public.start, end=public.end, status=public.status, ics_url=ics_url,
        status_url=status_url)


def appointment_agent(appointment: Appointment, calendars: Calendars) -> AppointmentAgent:
    return AppointmentAgent(
        **appointment_public(appointment, calendars).model_dump(),
        counter_number=appointment.counter_number, name=appointment.name,
        contact=ContactPublic(email=appointment.contact_email, phone=appointment.contact_phone),
        preferred_language=appointment.preferred_language, note=appointment.note,
        created_at=local(appointment.created_at),
        cancelled_at=local(appointment.cancelled_at) if appointment.cancelled_at else None,
    )
