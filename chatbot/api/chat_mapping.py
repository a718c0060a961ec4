"""Dialogue replies as the chat API's JSON: typed actions become links the widget follows."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chatbot.dialogue.reply import Action, AppointmentAction, HotlineAction, TicketAction
from chatbot.escalation.calendars import Calendars


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
    """`{"kind": "ticket" | "appointment" | "hotline", ...}` (fixed contract)."""
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
    raise TypeError(f"unknown action {action!r}")
