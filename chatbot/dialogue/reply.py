"""What one dialogue turn produces, independent of HTTP and storage.

Actions are typed; the API turns them into links (`chatbot.api.mappers`), so the
dialogue never knows a URL path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from chatbot.dialogue.hotline import HotlineStatus
from chatbot.dialogue.policy import Evidence, ReplyType
from chatbot.retrieval import ArticleHit


@dataclass(frozen=True)
class Source:
    article_id: str
    title: str
    url: str


@dataclass(frozen=True)
class TicketAction:
    kind: ClassVar[str] = "ticket"
    department: str | None
    """Only when the chat was confident about the topic; else the agents triage."""
    topic: str | None
    message: str
    """The question that escalated, to prefill the ticket form."""


@dataclass(frozen=True)
class AppointmentAction:
    kind: ClassVar[str] = "appointment"
    service: str


@dataclass(frozen=True)
class HotlineAction:
    kind: ClassVar[str] = "hotline"
    phone: str
    open: bool
    next_open: datetime


@dataclass(frozen=True)
class CaseStatusAction:
    """A form for application number and date of birth, answered by the case-status API."""

    kind: ClassVar[str] = "case_status"


@dataclass(frozen=True)
class DefectReportAction:
    """The defect report form (category, location, description, e-mail, photo)."""

    kind: ClassVar[str] = "defect_report"
    description: str
    """The message that reported the defect, to prefill the form."""


@dataclass(frozen=True)
class DefectStatusAction:
    """Ask the defect-report API for a report's status (the widget holds its token)."""

    kind: ClassVar[str] = "defect_status"
    report_id: str | None


Action = (TicketAction | AppointmentAction | HotlineAction | CaseStatusAction
          | DefectReportAction | DefectStatusAction)


@dataclass(frozen=True)
class Reply:
    type: ReplyType
    text: str
    confidence: float
    evidence: Evidence = Evidence.NONE
    sources: list[Source] = field(default_factory=list)
    choices: list[Source] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    hotline: HotlineStatus | None = None
    topic: ArticleHit | None = None
    """The article the reply is about (the answer, the first choice, the booking's or
    the escalation's topic); the next turn's context and the editors' gap report."""
    confident_topic: bool = False
    """The topic was answered or chosen with confidence (the next turn may inherit it)."""
