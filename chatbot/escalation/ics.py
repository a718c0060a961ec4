"""An RFC 5545 calendar file for a booked appointment, so citizens can add it anywhere."""

from __future__ import annotations

from datetime import UTC, datetime

from chatbot.escalation.calendars import ServiceCalendar
from chatbot.storage.models import Appointment

PRODID = "-//Citizen service chatbot//Appointments//DE"
_MAX_LINE_OCTETS = 75


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Split a content line into 75-octet pieces without cutting a UTF-8 character."""
    pieces: list[str] = []
    current = ""
    limit = _MAX_LINE_OCTETS
    for char in line:
        if len((current + char).encode("utf-8")) > limit:
            pieces.append(current)
            current = char
            limit = _MAX_LINE_OCTETS - 1  # continuation lines start with a space
        else:
            current += char
    pieces.append(current)
    return "\r\n ".join(pieces)


def appointment_ics(appointment: Appointment, calendar: ServiceCalendar | None, *,
                    now: datetime, uid_domain: str = "citizen-chatbot.invalid") -> str:
    lang = appointment.preferred_language
    title = calendar.title_in(lang) if calendar else appointment.service
    cancelled = appointment.cancelled_at is not None
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:{appointment.reference}@{uid_domain}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(appointment.slot_start)}",
        f"DTEND:{_utc(appointment.slot_end)}",
        f"SUMMARY:{_escape(f'{title} ({appointment.reference})')}",
        f"DESCRIPTION:{_escape(f'{title}: {appointment.reference}')}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
    ]
    if calendar and calendar.location:
        lines.append(f"LOCATION:{_escape(calendar.location)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(_fold(line) + "\r\n" for line in lines)
