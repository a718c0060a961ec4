"""Data protection: delete what the service no longer needs after the retention period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from chatbot.errors import InvalidInputError
from chatbot.storage.models import Appointment, Conversation, DefectReport, Ticket


@dataclass(frozen=True)
class PurgeResult:
    tickets: int
    appointments: int
    conversations: int
    cutoff: datetime
    defect_reports: int = 0


def purge(session: Session, *, older_than: timedelta, now: datetime,
          dry_run: bool = False) -> PurgeResult:
    """Delete tickets closed, appointments past (or cancelled), conversations idle and
    defect reports made (and no longer waiting to be forwarded) longer than `older_than`
    ago; ticket histories and messages go with them."""
    if older_than < timedelta(days=1):
        raise InvalidInputError("older_than", "the retention period is at least one day")
    cutoff = now - older_than
    targets: list[tuple[type[Ticket] | type[Appointment] | type[Conversation]
                        | type[DefectReport], ColumnElement[bool]]] = [
        (Ticket, (Ticket.status == "closed") & (Ticket.closed_at < cutoff)),
        (Appointment, or_(Appointment.slot_end < cutoff, Appointment.cancelled_at < cutoff)),
        (Conversation, Conversation.last_activity_at < cutoff),
        # A report still waiting for the endpoint stays until it is forwarded or failed.
        (DefectReport, (DefectReport.state != "pending") & (DefectReport.created_at < cutoff)),
    ]
    counts: list[int] = []
    for model, condition in targets:
        counts.append(session.scalar(select(func.count()).select_from(model).where(condition))
                      or 0)
        if not dry_run:
            # Foreign keys cascade to ticket events and chat messages, and unlink
            # tickets from purged conversations (their masked copy stays).
            session.execute(delete(model).where(condition),
                            execution_options={"synchronize_session": False})
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return PurgeResult(tickets=counts[0], appointments=counts[1], conversations=counts[2],
                       cutoff=cutoff, defect_reports=counts[3])
