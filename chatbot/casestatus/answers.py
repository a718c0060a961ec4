"""The citizen's answer to one case-status look-up, in their language.

Every outcome is an answer, never an error: the right pair gets the state; a wrong pair
and an unknown number get the same neutral text; a connector that cannot be reached (or
an export that is malformed, which the operator learns from the log) gets the hotline
and the ticket, so the citizen is not told "nothing found" when nobody looked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from chatbot.casestatus.base import (
    CaseState,
    CaseStatusConfigurationError,
    CaseStatusConnector,
    ConnectorUnavailableError,
)
from chatbot.dialogue.compose import Composer
from chatbot.dialogue.hotline import HotlineStatus

log = logging.getLogger(__name__)

TEMPLATE = "case_status"


@dataclass(frozen=True)
class CaseStatusAnswer:
    available: bool
    """False when the departmental system could not be asked."""
    state: CaseState | None
    text: str


def answer_lookup(connector: CaseStatusConnector, *, application_number: str,
                  date_of_birth: date, lang: str, composer: Composer,
                  status: HotlineStatus) -> CaseStatusAnswer:
    hotline = composer.hotline(lang, status)
    try:
        state = connector.lookup(application_number, date_of_birth)
    except (ConnectorUnavailableError, CaseStatusConfigurationError) as exc:
        # Neither the number nor the date of birth is logged.
        log.error("case status look-up failed: %s", exc)
        return CaseStatusAnswer(available=False, state=None, text=composer.render(
            lang, TEMPLATE, situation="unavailable", hotline=hotline, phone=status.phone))
    if state is None:
        return CaseStatusAnswer(available=True, state=None, text=composer.render(
            lang, TEMPLATE, situation="unknown", hotline=hotline, phone=status.phone))
    return CaseStatusAnswer(available=True, state=state, text=composer.render(
        lang, TEMPLATE, situation="state", state=state.state, kind=state.kind,
        date=state.date.strftime("%d.%m.%Y"), hotline=hotline, phone=status.phone))
