"""Booking and cancelling appointments in the services' calendars.

Capacity is enforced by the database: the partial unique index on (service,
slot_start, counter_number) over live bookings lets exactly `counters` bookings
into a slot however many replicas race for it. A booking tries the free counters
in order, each insert in a savepoint, and reports the slot full when all fail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatbot.errors import (
    ConflictError,
    ContactLimitError,
    DatabaseUnavailableError,
    InvalidInputError,
    NotFoundError,
    SlotTakenError,
)
from chatbot.escalation.calendars import Calendars, ServiceCalendar, Slot
from chatbot.escalation.clock import CITY_TIMEZONE
from chatbot.escalation.references import next_reference
from chatbot.escalation.tokens import (
    derive_token,
    fingerprint,
    hash_token,
    issue_token,
    read_only_token,
)
from chatbot.storage.models import Appointment

REFERENCE_SCOPE = "appointment"
ICS_PURPOSE = "ics"
MAX_LISTING_DAYS = 31


@dataclass(frozen=True)
class FreeSlot:
    slot: Slot
    available: int


@dataclass(frozen=True)
class AppointmentRequest:
    service: str
    start: datetime
    name: str
    preferred_language: str
    consent: bool
    contact_email: str | None = None
    contact_phone: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class BookedAppointment:
    appointment: Appointment
    cancel_token: str
    replayed: bool

    @property
    def ics_token(self) -> str:
        """The read-only token of the .ics link: it downloads the calendar file and
        nothing else (no status look-up, no cancelling)."""
        return ics_token_for(self.cancel_token, self.appointment.reference)


def ics_token_for(cancel_token: str, reference: str) -> str:
    return read_only_token(cancel_token, purpose=ICS_PURPOSE, reference=reference)


def _service(calendars: Calendars, name: str) -> ServiceCalendar:
    service = calendars.service(name)
    if service is None:
        known = ", ".join(sorted(calendars.services))
        raise InvalidInputError("service", f"unknown service {name!r}; known: {known}")
    return service


def free_slots(session: Session, *, calendars: Calendars, service: str, start_day: date,
               days: int, now: datetime) -> list[FreeSlot]:
    """Bookable slots from `start_day` for `days` days: future, within the horizon, not full."""
    calendar = _service(calendars, service)
    if not 1 <= days <= MAX_LISTING_DAYS:
        raise InvalidInputError("days", f"days must be between 1 and {MAX_LISTING_DAYS}")
    last_day = min(start_day + timedelta(days=days - 1), calendars.horizon_end(calendar, now))
    slots = [slot for slot in _slots_between(calendars, calendar, start_day, last_day)
             if slot.start > now]
    if not slots:
        return []
    booked = Counter[datetime]()
    rows = session.execute(
        select(Appointment.slot_start, func.count())
        .where(Appointment.service == service, Appointment.cancelled_at.is_(None),
               Appointment.slot_start >= slots[0].start, Appointment.slot_start <= slots[-1].start)
        .group_by(Appointment.slot_start)
    ).all()
    for slot_start, count in rows:
        booked[slot_start] = count
    return [FreeSlot(slot=slot, available=slot.capacity - booked[slot.start])
            for slot in slots if booked[slot.start] < slot.capacity]


def _slots_between(calendars: Calendars, calendar: ServiceCalendar, first: date,
                   last: date) -> Iterator[Slot]:
    day = first
    while day <= last:
        yield from calendars.slots_on(calendar, day)
        day += timedelta(days=1)


def book_appointment(session: Session, *, calendars: Calendars, request: AppointmentRequest,
                     idempotency_key: str | None, now: datetime,
                     reference_prefix: str = "TA",
                     max_open_per_contact: int = 0) -> BookedAppointment:
    """`max_open_per_contact` caps future bookings per e-mail address or phone number
    (0: no cap)."""
    if not request.consent:
        raise InvalidInputError("consent", "consent to store the data is required")
    calendar = _service(calendars, request.service)
    if request.start <= now:
        raise InvalidInputError("start", "this slot is in the past")
    slot = calendars.slot_at(calendar, request.start)
    if slot is None:
        local = request.start.astimezone(CITY_TIMEZONE)
        raise InvalidInputError(
            "start", f"{local:%Y-%m-%d %H:%M} is not a slot of {request.service} (closed, "
                     f"a holiday, or not on the {calendar.slot_minutes}-minute grid)")
    if slot.local_start.date() > calendars.horizon_end(calendar, now):
        raise InvalidInputError(
            "start", f"{request.service} takes bookings up to "
                     f"{calendar.booking_horizon_days} days ahead")

    request_fp = fingerprint(asdict(request) | {"start": slot.start.isoformat()})
    key_hash = hash_token(idempotency_key) if idempotency_key is not None else None
    if idempotency_key is not None and key_hash is not None:
        existing = _by_idempotency_key(session, key_hash)
        if existing is not None:
            return _replay(existing, idempotency_key, request_fp)
    if max_open_per_contact:
        _check_contact_cap(session, request, max_open_per_contact, now)

    token, salt = issue_token(idempotency_key=idempotency_key, request_fingerprint=request_fp)
    reference = next_reference(session, scope=REFERENCE_SCOPE, prefix=reference_prefix, now=now)
    taken = set(session.scalars(
        select(Appointment.counter_number)
        .where(Appointment.service == slot.service, Appointment.slot_start == slot.start,
               Appointment.cancelled_at.is_(None))
    ))
    for counter in range(1, slot.capacity + 1):
        if counter in taken:
            continue
        appointment = Appointment(
            reference=reference, cancel_token_hash=hash_token(token),
            ics_token_hash=hash_token(ics_token_for(token, reference)), token_salt=salt,
            idempotency_key_hash=key_hash, request_fingerprint=request_fp,
            service=slot.service, slot_start=slot.start, slot_end=slot.end,
            counter_number=counter, name=request.name, contact_email=request.contact_email,
            contact_phone=request.contact_phone, preferred_language=request.preferred_language,
            note=request.note, consent_at=now, created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(appointment)
                session.flush()
        except IntegrityError:
            # Another booking took this counter since we looked (or, with the same
            # Idempotency-Key, this very booking was made by a concurrent retry).
            if key_hash is not None and idempotency_key is not None:
                existing = _by_idempotency_key(session, key_hash)
                if existing is not None:
                    session.rollback()
                    return _replay(existing, idempotency_key, request_fp)
            continue
        stored = _commit_or_confirm(session, appointment)
        return BookedAppointment(appointment=stored, cancel_token=token, replayed=False)
    session.rollback()  # gives the reference number back
    local = slot.local_start
    raise SlotTakenError(f"the {local:%Y-%m-%d %H:%M} slot of {request.service} is fully "
                         f"booked; choose another slot")


def _commit_or_confirm(session: Session, appointment: Appointment) -> Appointment:
    """Commit the booking and return it. When the connection broke during COMMIT the
    server may have stored it anyway: look on a fresh connection, so that the citizen
    gets a 201 for a booking that exists (not a 503 that invites booking twice) and a
    503 only for one that does not. If even the look-up fails, the 503 stands; a retry
    with the same Idempotency-Key then finds the booking if it was stored."""
    token_hash = appointment.cancel_token_hash
    try:
        session.commit()
    except DatabaseUnavailableError:
        session.rollback()
        stored = _by_cancel_token_hash(session, token_hash)
        if stored is None:
            raise
        session.commit()
        return stored
    return appointment


def _by_cancel_token_hash(session: Session, token_hash: str) -> Appointment | None:
    return session.scalars(
        select(Appointment).where(Appointment.cancel_token_hash == token_hash)
    ).one_or_none()


def _check_contact_cap(session: Session, request: AppointmentRequest, cap: int,
                       now: datetime) -> None:
    """Future, live bookings of the same e-mail address or phone number. Checked before
    the insert: concurrent bookings may pass together (a brake, not an exact quota)."""
    same_contact = [column == value for column, value in (
        (Appointment.contact_email, request.contact_email),
        (Appointment.contact_phone, request.contact_phone)) if value]
    if not same_contact:
        return
    booked = session.scalar(select(func.count()).select_from(Appointment).where(
        or_(*same_contact), Appointment.cancelled_at.is_(None),
        Appointment.slot_start > now)) or 0
    if booked >= cap:
        raise ContactLimitError(
            f"this e-mail address or phone number already has {booked} open appointments; "
            f"cancel one you no longer need, or call the hotline")


def _by_idempotency_key(session: Session, key_hash: str) -> Appointment | None:
    return session.scalars(
        select(Appointment).where(Appointment.idempotency_key_hash == key_hash)
    ).one_or_none()


def _replay(appointment: Appointment, idempotency_key: str,
            request_fp: str) -> BookedAppointment:
    if appointment.request_fingerprint != request_fp:
        raise InvalidInputError("Idempotency-Key",
                                "this Idempotency-Key was already used for a different request")
    token = derive_token(salt=appointment.token_salt, seed=idempotency_key,
                         request_fingerprint=request_fp)
    return BookedAppointment(appointment=appointment, cancel_token=token, replayed=True)


def get_appointment_for_citizen(session: Session, *, reference: str,
                                token: str) -> Appointment:
    """With the full (cancel) token."""
    # The token is part of the lookup: an unknown reference and a wrong token take the
    # same path to the same answer.
    appointment = session.scalars(
        select(Appointment).where(Appointment.reference == reference,
                                  Appointment.cancel_token_hash == hash_token(token))
    ).one_or_none()
    if appointment is None:
        raise NotFoundError("no appointment with this reference and token")
    return appointment


def get_appointment_for_ics(session: Session, *, reference: str,
                            ics_token: str) -> Appointment:
    """With the .ics link's read-only token; the same answer for an unknown reference
    and a wrong token (and for the cancel token: it is not this token)."""
    appointment = session.scalars(
        select(Appointment).where(Appointment.reference == reference,
                                  Appointment.ics_token_hash == hash_token(ics_token))
    ).one_or_none()
    if appointment is None:
        raise NotFoundError("no appointment with this reference and calendar token")
    return appointment


def cancel_appointment(session: Session, *, reference: str, token: str,
                       now: datetime) -> Appointment:
    """Cancel and free the counter; cancelling twice is harmless."""
    appointment = get_appointment_for_citizen(session, reference=reference, token=token)
    if appointment.cancelled_at is not None:
        return appointment
    if appointment.slot_start <= now:
        raise ConflictError("this appointment has already begun or taken place")
    appointment.cancelled_at = now
    try:
        session.commit()
    except DatabaseUnavailableError:
        # The COMMIT may have reached the server before the connection broke: the
        # citizen is told what is stored (cancelled: 200; not: 503, and cancelling
        # again is harmless).
        session.rollback()
        stored = get_appointment_for_citizen(session, reference=reference, token=token)
        session.commit()
        if stored.cancelled_at is None:
            raise
        return stored
    return appointment


def appointments_on(session: Session, *, day: date, service: str | None = None,
                    include_cancelled: bool = False) -> list[Appointment]:
    """One local day's appointments, for the agents' day list."""
    start = datetime.combine(day, datetime.min.time(), CITY_TIMEZONE)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), CITY_TIMEZONE)
    query = select(Appointment).where(Appointment.slot_start >= start, Appointment.slot_start < end)
    if service is not None:
        query = query.where(Appointment.service == service)
    if not include_cancelled:
        query = query.where(Appointment.cancelled_at.is_(None))
    return list(session.scalars(query.order_by(Appointment.slot_start, Appointment.service,
                                               Appointment.counter_number)))
