"""Case status from departmental systems: application number + date of birth -> state.

Every outcome the citizen can act on is a 200 with a text in their language: the state,
the same neutral answer for a wrong pair or an unknown number, or (`available: false`)
the hotline and a ticket when the departmental system cannot be asked. A 503 would make
the widget show a generic failure instead of the way to a person. 404 when this server
has no connector configured; rate-limited with the look-ups (`CHATBOT_RATE_LIMIT_STATUS`).
"""

from __future__ import annotations

from fastapi import APIRouter

from chatbot.api.deps import CalendarsDep, CaseStatusDep, ComposerDep, HotlineDep, NowDep
from chatbot.api.mappers import actions_public, hotline_public
from chatbot.api.schemas.case_status import CaseStatusLookup, CaseStatusPublic
from chatbot.casestatus.answers import answer_lookup
from chatbot.dialogue.reply import HotlineAction, TicketAction

router = APIRouter(prefix="/api/v1/case-status", tags=["case status"])


@router.post(
    "", response_model=CaseStatusPublic, summary="Look up an ID card or passport application",
    responses={404: {"description": "No case-status connector configured on this server"},
               422: {"description": "Malformed number, date of birth or lang"},
               429: {"description": "Too many look-ups from this address"}},
)
def lookup(body: CaseStatusLookup, connector: CaseStatusDep, composer: ComposerDep,
           hotline: HotlineDep, calendars: CalendarsDep, now: NowDep) -> CaseStatusPublic:
    # A sync route: adapters may do file or network I/O (FastAPI runs it in the pool).
    status = hotline.status(now)
    answer = answer_lookup(connector, application_number=body.application_number,
                           date_of_birth=body.birth_date, lang=body.lang, composer=composer,
                           status=status)
    state = answer.state
    actions = [] if state is not None else actions_public(
        [TicketAction(department=None, topic=None, message=""),
         HotlineAction(phone=status.phone, open=status.open, next_open=status.next_open)],
        calendars)
    return CaseStatusPublic(
        available=answer.available, found=state is not None,
        state=state.state if state else None, kind=state.kind if state else None,
        date=state.date if state else None, text=answer.text,
        hotline=hotline_public(status, composer.hotline(body.lang, status)), actions=actions)
