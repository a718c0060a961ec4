"""Citizens' tickets: create one (from a chat or directly) and follow its status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response, status
from pydantic import AfterValidator

from chatbot.api.deps import (
    CalendarsDep,
    DbSession,
    DbWriteSession,
    NowDep,
    SettingsDep,
    header_token,
)
from chatbot.api.mappers import ticket_created, ticket_public
from chatbot.api.problems import IDEMPOTENCY_HEADER
from chatbot.api.schemas.tickets import (
    CitizenMessageCreate,
    TicketCreate,
    TicketCreated,
    TicketPublic,
)
from chatbot.api.urls import absolute_url
from chatbot.escalation.outbox import status_page_path
from chatbot.escalation.tickets import (
    TicketRequest,
    TranscriptLine,
    add_citizen_message,
    create_ticket,
    get_ticket_for_citizen,
)

router = APIRouter(prefix="/api/v1", tags=["tickets"])

IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._:-]{8,200}$"
# Citizens type references by hand: accept them in any case.
ReferencePath = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9-]+$"),
                          AfterValidator(str.upper)]
IdempotencyKey = Annotated[str | None, Header(
    alias=IDEMPOTENCY_HEADER, pattern=IDEMPOTENCY_KEY_PATTERN,
    description="A client-chosen unique value (e.g. a UUID); a retried request with the "
                "same key and body returns the first ticket instead of a second one")]
TokenHeader = Annotated[str | None, Header(
    alias="X-Access-Token", max_length=200,
    description="The ticket's access token (never in the URL: URLs reach logs)")]


@router.post(
    "/tickets", response_model=TicketCreated, status_code=status.HTTP_201_CREATED,
    summary="Open a ticket for a personal answer",
    responses={200: {"description": "Replay of an earlier request with the same "
                                    "Idempotency-Key", "model": TicketCreated},
               422: {"description": "Invalid field (named in `detail[].loc`); nothing stored"}},
)
def post_ticket(body: TicketCreate, request: Request, response: Response,
                session: DbWriteSession, calendars: CalendarsDep, settings: SettingsDep,
                now: NowDep, idempotency_key: IdempotencyKey = None) -> TicketCreated:
    ticket_request = TicketRequest(
        message=body.message, preferred_language=body.preferred_language, consent=body.consent,
        contact_email=body.contact.email, contact_phone=body.contact.phone,
        contact_name=body.name, department=body.department, topic=body.topic,
        conversation_id=body.conversation_id,
        transcript=(tuple(TranscriptLine(role=line.role, text=line.text)
                          for line in body.transcript) if body.transcript is not None else None),
        detected_language=body.detected_language,
    )
    created = create_ticket(session, request=ticket_request,
                            departments=calendars.departments,
                            idempotency_key=idempotency_key, now=now,
                            reference_prefix=settings.ticket_reference_prefix,
                            per_contact_per_hour=settings.tickets_per_contact_per_hour,
                            max_transcript_chars=settings.max_transcript_chars,
                            hotline_phone=settings.hotline_phone)
    if created.replayed:
        response.status_code = status.HTTP_200_OK
    reference = created.ticket.reference
    return ticket_created(
        created, absolute_url(request, settings, f"/api/v1/tickets/{reference}"),
        absolute_url(request, settings, status_page_path(reference)))


@router.get(
    "/tickets/{reference}", response_model=TicketPublic, summary="A ticket's status",
    responses={401: {"description": "No access token given"},
               404: {"description": "Unknown reference or wrong token"}},
)
def get_ticket_status(reference: ReferencePath, request: Request, session: DbSession,
                      x_access_token: TokenHeader = None) -> TicketPublic:
    token = header_token(request, x_access_token, what="access token")
    ticket = get_ticket_for_citizen(session, reference=reference, token=token)
    return ticket_public(ticket)


@router.post(
    "/tickets/{reference}/messages", response_model=TicketPublic,
    status_code=status.HTTP_201_CREATED, summary="The citizen writes back on their ticket",
    responses={401: {"description": "No access token given"},
               404: {"description": "Unknown reference or wrong token"},
               409: {"description": "The ticket is closed"}},
)
def post_citizen_message(reference: ReferencePath, body: CitizenMessageCreate,
                         request: Request, session: DbWriteSession, now: NowDep,
                         settings: SettingsDep, x_access_token: TokenHeader = None
                         ) -> TicketPublic:
    """Personal identifiers in the text are masked before it is stored."""
    ticket = add_citizen_message(session, reference=reference,
                                 token=header_token(request, x_access_token, what="access token"),
                                 text=body.text, now=now,
                                 hotline_phone=settings.hotline_phone)
    return ticket_public(ticket)
