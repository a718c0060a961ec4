"""Appointment calendars for citizens: free slots, booking, .ics download, cancelling.

Tokens stay out of URLs that reach logs: the status look-up and cancelling take the
cancel token only in the `X-Access-Token` header. The `.ics` link a booking returns
carries a separate read-only token (derived one-way from the cancel token) that
downloads the calendar file and does nothing else; the file holds no more than the
service, time, place and reference.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status

from chatbot.api.constraints import CalendarDate
from chatbot.api.deps import (
    CalendarsDep,
    DbSession,
    DbWriteSession,
    NowDep,
    SettingsDep,
    header_token,
)
from chatbot.api.mappers import appointment_created, appointment_public, slot_public
from chatbot.api.routes.tickets import IdempotencyKey, ReferencePath
from chatbot.api.schemas.appointments import (
    AppointmentCreate,
    AppointmentCreated,
    AppointmentPublic,
    ServicePublic,
    SlotListPublic,
)
from chatbot.api.urls import absolute_url, public_host
from chatbot.escalation.appointments import (
    MAX_LISTING_DAYS,
    AppointmentRequest,
    book_appointment,
    cancel_appointment,
    free_slots,
    get_appointment_for_citizen,
    get_appointment_for_ics,
)
from chatbot.escalation.calendars import WEEKDAYS
from chatbot.escalation.clock import CITY_TIMEZONE
from chatbot.escalation.ics import appointment_ics

router = APIRouter(prefix="/api/v1/appointments", tags=["appointments"])

CancelTokenHeader = Annotated[str | None, Header(
    alias="X-Access-Token", max_length=200,
    description="The booking's `cancel_token` (never in the URL: URLs reach logs)")]
IcsTokenQuery = Annotated[str | None, Query(
    max_length=200, description="The read-only calendar token of the booking's `ics_url`; "
                                "it cannot cancel or look the booking up")]
_NO_TOKEN: dict[int | str, dict[str, Any]] = {
    401: {"description": "No token given in the X-Access-Token header"}}


@router.get("/services", response_model=list[ServicePublic], summary="Bookable services")
def list_services(calendars: CalendarsDep,
                  lang: Annotated[str, Query(max_length=8)] = "de") -> list[ServicePublic]:
    return [
        ServicePublic(name=c.name, title=c.title_in(lang), slot_minutes=c.slot_minutes,
                      counters=c.counters, booking_horizon_days=c.booking_horizon_days,
                      weekdays=[d for d in WEEKDAYS if c.hours.get(d)])
        for c in calendars.services.values()
    ]


@router.get(
    "/slots", response_model=SlotListPublic, summary="Free slots of a service",
    responses={422: {"description": "Unknown service, malformed date or days out of range"}},
)
def list_slots(
    session: DbSession, calendars: CalendarsDep, now: NowDep,
    service: Annotated[str, Query(min_length=1, max_length=64, examples=["buergerservice"])],
    from_date: Annotated[CalendarDate | None, Query(alias="from", description="YYYY-MM-DD; today "
                                                                     "if omitted")] = None,
    days: Annotated[int, Query(ge=1, le=MAX_LISTING_DAYS)] = 7,
) -> SlotListPublic:
    today = now.astimezone(CITY_TIMEZONE).date()
    start_day = max(from_date or today, today)
    slots = free_slots(session, calendars=calendars, service=service, start_day=start_day,
                       days=days, now=now)
    return SlotListPublic(
        service=service, timezone=str(CITY_TIMEZONE), from_date=start_day, days=days,
        slots=[slot_public(s) for s in slots],
    )


@router.post(
    "", response_model=AppointmentCreated, status_code=status.HTTP_201_CREATED,
    summary="Book a slot",
    responses={200: {"description": "Replay of an earlier request with the same "
                                    "Idempotency-Key", "model": AppointmentCreated},
               409: {"description": "The slot is fully booked"},
               422: {"description": "Invalid field, unknown service, past or non-existent "
                                    "slot; nothing stored"}},
)
def post_appointment(body: AppointmentCreate, request: Request, response: Response,
                     session: DbWriteSession, calendars: CalendarsDep, settings: SettingsDep,
                     now: NowDep, idempotency_key: IdempotencyKey = None) -> AppointmentCreated:
    start = body.start if body.start.tzinfo else body.start.replace(tzinfo=CITY_TIMEZONE)
    booking = AppointmentRequest(
        service=body.service, start=start, name=body.name,
        preferred_language=body.preferred_language, consent=body.consent,
        contact_email=body.contact.email, contact_phone=body.contact.phone, note=body.note,
    )
    booked = book_appointment(session, calendars=calendars, request=booking,
                              idempotency_key=idempotency_key, now=now,
                              reference_prefix=settings.appointment_reference_prefix,
                              max_open_per_contact=settings.max_open_appointments_per_contact)
    if booked.replayed:
        response.status_code = status.HTTP_200_OK
    path = f"/api/v1/appointments/{booked.appointment.reference}"
    return appointment_created(
        booked, calendars,
        # A plain link must be able to download the file, so it carries a token: the
        # read-only one, since links end up in logs, histories and shared calendars.
        ics_url=absolute_url(request, settings,
                             f"{path}/ics?token={quote(booked.ics_token)}"),
        status_url=absolute_url(request, settings, path))


@router.get("/{reference}", response_model=AppointmentPublic, summary="An appointment",
            responses={**_NO_TOKEN,
                       404: {"description": "Unknown reference or wrong token"}})
def get_appointment(reference: ReferencePath, request: Request, session: DbSession,
                    calendars: CalendarsDep,
                    x_access_token: CancelTokenHeader = None) -> AppointmentPublic:
    token = header_token(request, x_access_token, what="cancel token")
    appointment = get_appointment_for_citizen(session, reference=reference, token=token)
    return appointment_public(appointment, calendars)


@router.get("/{reference}/ics", summary="The appointment as an .ics calendar file",
            description="With the read-only `token` of the booking's `ics_url`, or with the "
                        "cancel token in the X-Access-Token header.",
            response_class=Response,
            responses={200: {"content": {"text/calendar": {}}},
                       401: {"description": "No token given"},
                       404: {"description": "Unknown reference or wrong token"}})
def get_appointment_ics(reference: ReferencePath, request: Request, session: DbSession,
                        settings: SettingsDep, calendars: CalendarsDep, now: NowDep,
                        token: IcsTokenQuery = None,
                        x_access_token: CancelTokenHeader = None) -> Response:
    if x_access_token:
        appointment = get_appointment_for_citizen(session, reference=reference,
                                                  token=x_access_token)
    elif token:
        appointment = get_appointment_for_ics(session, reference=reference, ics_token=token)
    else:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            detail="the calendar token (?token= of the ics_url) or the cancel "
                                   "token (X-Access-Token header) is required")
    body = appointment_ics(appointment, calendars.service(appointment.service), now=now,
                           uid_domain=public_host(request, settings))
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{appointment.reference}.ics"',
        "Cache-Control": "no-store",
    })


@router.delete("/{reference}", response_model=AppointmentPublic,
               summary="Cancel an appointment (frees the slot)",
               responses={**_NO_TOKEN,
                          404: {"description": "Unknown reference or wrong token"},
                          409: {"description": "The appointment has already begun"}})
def delete_appointment(reference: ReferencePath, request: Request, session: DbWriteSession,
                       calendars: CalendarsDep, now: NowDep,
                       x_access_token: CancelTokenHeader = None) -> AppointmentPublic:
    token = header_token(request, x_access_token, what="cancel token")
    appointment = cancel_appointment(session, reference=reference, token=token, now=now)
    return appointment_public(appointment, calendars)

