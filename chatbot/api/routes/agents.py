"""Hotline agents' endpoints: the ticket queue, ticket work and the day's appointments.

Every route needs an agent's bearer token: none or an invalid one is 401, an
editor's is 403.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status

from chatbot.api.constraints import MAX_INT32, CalendarDate, StorableText
from chatbot.api.deps import (
    CalendarsDep,
    CurrentAgent,
    CurrentUser,
    DbSession,
    DbWriteSession,
    NowDep,
    SettingsDep,
)
from chatbot.api.mappers import (
    appointment_agent,
    notification_agent,
    ticket_agent,
    ticket_summary,
)
from chatbot.api.routes.tickets import ReferencePath
from chatbot.api.schemas.agents import AgentPublic
from chatbot.api.schemas.appointments import AppointmentAgent
from chatbot.api.schemas.tickets import (
    NotificationAgent,
    TicketAgent,
    TicketAssignmentUpdate,
    TicketListAgent,
    TicketStatus,
    TicketStatusUpdate,
    TicketTextCreate,
)
from chatbot.api.urls import public_base
from chatbot.config import Settings
from chatbot.escalation import tickets
from chatbot.escalation.appointments import appointments_on
from chatbot.escalation.clock import CITY_TIMEZONE
from chatbot.escalation.outbox import list_messages
from chatbot.escalation.users import Actor, list_users

router = APIRouter(
    prefix="/api/v1/agent", tags=["agents"],
    responses={401: {"description": "No valid bearer token"},
               403: {"description": "The token's role is not agent"}},
)

MAX_AGE_HOURS = 24 * 3650


def _agent_public(actor: Actor) -> AgentPublic:
    return AgentPublic(name=actor.name, role=actor.role,
                       departments=list(actor.departments) if actor.departments else None,
                       languages=list(actor.languages) if actor.languages else None)


def _notify(request: Request, settings: Settings) -> tickets.Notify:
    """The citizen hears of replies and status changes by e-mail (when they gave an
    address); without SMTP the outbox records the mail as skipped."""
    return tickets.Notify(base_url=public_base(request, settings),
                          deliver=settings.smtp_configured)


@router.get("/me", response_model=AgentPublic, summary="Who the token belongs to")
def me(actor: CurrentUser) -> AgentPublic:
    return _agent_public(actor)


@router.get("/agents", response_model=list[AgentPublic],
            summary="The active agents, to assign tickets to")
def list_agents(_agent: CurrentAgent, session: DbSession) -> list[AgentPublic]:
    return [AgentPublic(name=u.name, role=u.role, departments=u.departments,
                        languages=u.languages)
            for u in list_users(session) if u.role == "agent" and u.revoked_at is None]


@router.get("/tickets", response_model=TicketListAgent, summary="The ticket queue, oldest first")
def list_tickets(
    agent: CurrentAgent, session: DbSession, now: NowDep,
    view: Annotated[Literal["mine", "all"], Query(
        description="mine: what this agent can handle (assigned to them, or unassigned "
                    "in a department they serve or `allgemein` and a language they "
                    "serve); all: every ticket")] = "mine",
    status_: Annotated[list[TicketStatus] | None, Query(alias="status")] = None,
    department: Annotated[StorableText | None, Query(max_length=64)] = None,
    language: Annotated[StorableText | None, Query(max_length=8)] = None,
    min_age_hours: Annotated[float | None, Query(ge=0, le=MAX_AGE_HOURS)] = None,
    max_age_hours: Annotated[float | None, Query(ge=0, le=MAX_AGE_HOURS)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
) -> TicketListAgent:
    found, total = tickets.list_tickets(
        session, now=now, statuses=status_, department=department, language=language,
        for_agent=agent if view == "mine" else None,
        min_age=timedelta(hours=min_age_hours) if min_age_hours is not None else None,
        max_age=timedelta(hours=max_age_hours) if max_age_hours is not None else None,
        limit=limit, offset=offset)
    return TicketListAgent(total=total, items=[ticket_summary(t, now) for t in found])


_UNKNOWN_TICKET: dict[int | str, dict[str, Any]] = {
    404: {"description": "No ticket with this reference"}}


@router.get("/tickets/{reference}", response_model=TicketAgent, summary="One ticket, in full",
            responses=_UNKNOWN_TICKET)
def get_ticket(reference: ReferencePath, _agent: CurrentAgent, session: DbSession,
               now: NowDep) -> TicketAgent:
    return ticket_agent(tickets.get_ticket(session, reference=reference), now)


@router.get("/tickets/{reference}/notifications", response_model=list[NotificationAgent],
            summary="The e-mails to the citizen about this ticket: sent, pending, failed",
            responses=_UNKNOWN_TICKET)
def get_notifications(reference: ReferencePath, _agent: CurrentAgent,
                      session: DbSession) -> list[NotificationAgent]:
    ticket = tickets.get_ticket(session, reference=reference)
    return [notification_agent(m) for m in list_messages(session, ticket_id=ticket.id)]


@router.post("/tickets/{reference}/status", response_model=TicketAgent,
             summary="Move a ticket along its lifecycle",
             responses={**_UNKNOWN_TICKET,
                        409: {"description": "The lifecycle does not allow this change"}})
def post_status(reference: ReferencePath, body: TicketStatusUpdate, agent: CurrentAgent,
                session: DbWriteSession, now: NowDep, request: Request,
                settings: SettingsDep) -> TicketAgent:
    ticket = tickets.change_status(session, reference=reference, to_status=body.status,
                                   actor=agent, now=now, comment=body.comment,
                                   notify=_notify(request, settings))
    return ticket_agent(ticket, now)


@router.post("/tickets/{reference}/assignment", response_model=TicketAgent,
             summary="Assign a ticket to an agent (or back to the queue)",
             responses={**_UNKNOWN_TICKET,
                        409: {"description": "The ticket is closed"},
                        422: {"description": "No active agent with this name"}})
def post_assignment(reference: ReferencePath, body: TicketAssignmentUpdate,
                    agent: CurrentAgent, session: DbWriteSession, now: NowDep) -> TicketAgent:
    ticket = tickets.assign(session, reference=reference, assignee=body.assignee, actor=agent,
                            now=now)
    return ticket_agent(ticket, now)


@router.post("/tickets/{reference}/notes", response_model=TicketAgent,
             status_code=status.HTTP_201_CREATED, summary="Add an internal note",
             responses={**_UNKNOWN_TICKET, 409: {"description": "The ticket is closed"}})
def post_note(reference: ReferencePath, body: TicketTextCreate, agent: CurrentAgent,
              session: DbWriteSession, now: NowDep) -> TicketAgent:
    tickets.add_note(session, reference=reference, text=body.text, actor=agent, now=now)
    return ticket_agent(tickets.get_ticket(session, reference=reference), now)


@router.post("/tickets/{reference}/replies", response_model=TicketAgent,
             status_code=status.HTTP_201_CREATED,
             summary="Reply to the citizen (shown on the ticket's status)",
             responses={**_UNKNOWN_TICKET, 409: {"description": "The ticket is closed"}})
def post_reply(reference: ReferencePath, body: TicketTextCreate, agent: CurrentAgent,
               session: DbWriteSession, now: NowDep, request: Request,
               settings: SettingsDep) -> TicketAgent:
    tickets.add_reply(session, reference=reference, text=body.text, actor=agent, now=now,
                      notify=_notify(request, settings))
    return ticket_agent(tickets.get_ticket(session, reference=reference), now)


@router.get("/appointments", response_model=list[AppointmentAgent],
            summary="A day's appointments (today if no date)")
def list_appointments(
    _agent: CurrentAgent, session: DbSession, calendars: CalendarsDep, now: NowDep,
    day: Annotated[CalendarDate | None, Query(alias="date", description="YYYY-MM-DD")] = None,
    service: Annotated[StorableText | None, Query(max_length=64)] = None,
    include_cancelled: bool = False,
) -> list[AppointmentAgent]:
    day = day or now.astimezone(CITY_TIMEZONE).date()
    found = appointments_on(session, day=day, service=service,
                            include_cancelled=include_cancelled)
    return [appointment_agent(a, calendars) for a in found]
