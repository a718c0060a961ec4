"""Storing a defect report with the citizen's request, and reading it back.

The report is committed before anything is sent: an Open311 outage delays it but
cannot lose it (`forwarding` sends it later). Without an endpoint the report becomes a
ticket in the configured department's queue at once; its row records the ticket.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatbot.errors import InvalidInputError, NotFoundError
from chatbot.escalation.references import next_reference
from chatbot.escalation.tickets import TicketRequest, create_ticket
from chatbot.escalation.tokens import derive_token, fingerprint, hash_token, issue_token
from chatbot.storage.models import DEFECT_STATES, DefectReport, Ticket

REFERENCE_SCOPE = "defect"
MAX_DESCRIPTION_CHARS = 4000
MAX_ADDRESS_CHARS = 300


@dataclass(frozen=True)
class DefectRequest:
    service_code: str
    description: str
    language: str
    consent: bool
    address_string: str | None = None
    lat: float | None = None
    lon: float | None = None
    email: str | None = None
    photo: bytes | None = None
    photo_type: str | None = None
    conversation_id: str | None = None


@dataclass(frozen=True)
class CreatedReport:
    report: DefectReport
    access_token: str
    ticket_reference: str | None
    replayed: bool = False
    """An earlier request with the same Idempotency-Key made it."""


def request_fingerprint(request: DefectRequest) -> str:
    """The request's fingerprint, with the photo as its hash (not megabytes of text)."""
    payload = {**asdict(request), "photo": hashlib.sha256(request.photo).hexdigest()
               if request.photo is not None else None}
    return fingerprint(payload)


def validate(request: DefectRequest, *, categories: dict[str, str] | None) -> None:
    """Everything the endpoint would refuse, refused here first with the field's name
    (nothing stored, nothing forwarded). `categories`: code -> name; None when the
    endpoint's list cannot be read now (the code is then not checked here)."""
    if not request.consent:
        raise InvalidInputError("consent", "consent to store and forward the report is "
                                           "required")
    if categories is not None and request.service_code not in categories:
        raise InvalidInputError("category", f"unknown category {request.service_code!r}")
    if not request.description.strip():
        raise InvalidInputError("description", "describe the defect")
    has_point = request.lat is not None and request.lon is not None
    if (request.lat is None) != (request.lon is None):
        raise InvalidInputError("location", "give both latitude and longitude")
    if not (request.address_string and request.address_string.strip()) and not has_point:
        raise InvalidInputError("location", "give the street and house number (or a point "
                                            "on the map)")


def create_report(session: Session, *, request: DefectRequest,
                  categories: dict[str, str] | None,
                  now: datetime, to_ticket: bool, fallback_department: str,
                  departments: Collection[str], reference_prefix: str = "MD",
                  hotline_phone: str | None = None,
                  idempotency_key: str | None = None) -> CreatedReport:
    """Store the report (committed). `to_ticket`: no Open311 endpoint, the report
    becomes a ticket for `fallback_department`; else it waits in state `pending`.
    A request repeated with the same `idempotency_key` gets the first report back."""
    request_fp = request_fingerprint(request)
    key_hash = hash_token(idempotency_key) if idempotency_key is not None else None
    if idempotency_key is not None and key_hash is not None:
        existing = _by_idempotency_key(session, key_hash)
        if existing is not None:
            return _replay(session, existing, idempotency_key, request_fp)
    validate(request, categories=categories)
    name = (categories or {}).get(request.service_code) or request.service_code
    ticket_reference: str | None = None
    ticket_id: int | None = None
    if to_ticket:
        if fallback_department not in departments:
            raise InvalidInputError("department", f"unknown department {fallback_department!r} "
                                                  "(CHATBOT_OPEN311_FALLBACK_DEPARTMENT)")
        created = create_ticket(
            session, request=TicketRequest(
                message=ticket_text(name, request), preferred_language=request.language,
                consent=True, contact_email=request.email, department=fallback_department,
                topic=name, conversation_id=request.conversation_id),
            departments=departments, now=now, hotline_phone=hotline_phone,
            # The same key makes a concurrent retry find the same ticket.
            idempotency_key=f"defect:{idempotency_key}" if idempotency_key else None,
            require_contact=False)
        ticket_reference, ticket_id = created.ticket.reference, created.ticket.id
    token, salt = issue_token(idempotency_key=idempotency_key, request_fingerprint=request_fp)
    report = DefectReport(
        reference=next_reference(session, scope=REFERENCE_SCOPE, prefix=reference_prefix,
                                 now=now),
        access_token_hash=hash_token(token), idempotency_key_hash=key_hash,
        request_fingerprint=request_fp, token_salt=salt, service_code=request.service_code,
        service_name=name[:200], description=request.description.strip(),
        address_string=(request.address_string or "").strip() or None,
        lat=request.lat, lon=request.lon, email=request.email,
        # Without an endpoint nothing would show or send the photo: not kept (the ticket
        # says one was sent).
        photo=None if to_ticket else request.photo,
        photo_type=None if to_ticket else request.photo_type, language=request.language,
        conversation_id=request.conversation_id, consent_at=now, created_at=now,
        state="ticket" if to_ticket else "pending", attempts=0, next_attempt_at=now,
        ticket_id=ticket_id)
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        # A concurrent retry with the same key (on this or another replica) won.
        existing = _by_idempotency_key(session, key_hash) if key_hash else None
        if existing is None or idempotency_key is None:
            raise
        return _replay(session, existing, idempotency_key, request_fp)
    session.commit()
    return CreatedReport(report=report, access_token=token, ticket_reference=ticket_reference)


def _by_idempotency_key(session: Session, key_hash: str) -> DefectReport | None:
    return session.scalars(select(DefectReport).where(
        DefectReport.idempotency_key_hash == key_hash)).one_or_none()


def _replay(session: Session, report: DefectReport, idempotency_key: str,
            request_fp: str) -> CreatedReport:
    if report.request_fingerprint != request_fp or report.token_salt is None:
        raise InvalidInputError("Idempotency-Key",
                                "this Idempotency-Key was already used for a different report")
    token = derive_token(salt=report.token_salt, seed=idempotency_key,
                         request_fingerprint=request_fp)
    reference = ticket_reference(session, report)
    session.commit()
    return CreatedReport(report=report, access_token=token, ticket_reference=reference,
                         replayed=True)


def ticket_text(name: str, request: DefectRequest) -> str:
    lines = [f"Mängelmeldung: {name}"]
    if request.address_string:
        lines.append(f"Ort: {request.address_string.strip()}")
    if request.lat is not None and request.lon is not None:
        lines.append(f"Koordinaten: {request.lat:.6f}, {request.lon:.6f}")
    if request.photo is not None:
        lines.append("Foto: wurde mitgesendet, aber nicht gespeichert (ohne Open311-Meldesystem "
                     "kann es nicht angezeigt werden); bei Bedarf die meldende Person fragen")
    lines.extend(["", request.description.strip()])
    return "\n".join(lines)


def get_report_for_citizen(session: Session, *, reference: str, token: str) -> DefectReport:
    """The same NotFoundError for an unknown reference and a wrong token."""
    report = session.scalars(select(DefectReport).where(
        DefectReport.reference == reference,
        DefectReport.access_token_hash == hash_token(token))).one_or_none()
    if report is None:
        raise NotFoundError("no defect report with this reference and access token")
    return report


def ticket_reference(session: Session, report: DefectReport) -> str | None:
    if report.ticket_id is None:
        return None
    return session.scalar(select(Ticket.reference).where(Ticket.id == report.ticket_id))


def list_reports(session: Session, *, states: Sequence[str] | None = None,
                 limit: int = 100) -> list[DefectReport]:
    unknown = set(states or ()) - set(DEFECT_STATES)
    if unknown:
        raise InvalidInputError("state", f"unknown state {sorted(unknown)[0]!r}; one of "
                                         f"{', '.join(DEFECT_STATES)}")
    query = select(DefectReport).order_by(DefectReport.id.desc()).limit(limit)
    if states:
        query = query.where(DefectReport.state.in_(states))
    return list(session.scalars(query).all())
