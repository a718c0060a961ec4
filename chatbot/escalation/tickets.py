"""Tickets: created by citizens (from a chat or directly), worked on by agents."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from chatbot.errors import (
    ContactLimitError,
    DatabaseUnavailableError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
)
from chatbot.escalation.conversations import get_conversation
from chatbot.escalation.masking import CITIZEN_ROLES, mask_text, mask_transcript
from chatbot.escalation.outbox import enqueue
from chatbot.escalation.references import next_reference
from chatbot.escalation.tokens import (
    derive_token,
    fingerprint,
    hash_token,
    issue_token,
)
from chatbot.escalation.users import Actor
from chatbot.storage.models import TICKET_STATUSES, Ticket, TicketAccessCode, TicketEvent

DEFAULT_DEPARTMENT = "allgemein"
CITIZEN_ACTOR = "citizen"
REFERENCE_SCOPE = "ticket"

# The lifecycle open -> in_progress -> waiting_for_citizen -> resolved -> closed, plus
# the shortcuts agents need: answering at once, closing spam, reopening on a follow-up.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "resolved", "closed"}),
    "in_progress": frozenset({"waiting_for_citizen", "resolved"}),
    "waiting_for_citizen": frozenset({"in_progress", "resolved"}),
    "resolved": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
}


# A citizen's answer on the status page puts a ticket that waited for them, or was
# resolved, back into the agents' work.
CITIZEN_REOPENS = frozenset({"waiting_for_citizen", "resolved"})


@dataclass(frozen=True)
class Notify:
    """How to tell the citizen about a change: the service's public base URL (the
    e-mail's link) and whether e-mail can be sent at all (SMTP configured)."""

    base_url: str
    deliver: bool


@dataclass(frozen=True)
class TranscriptLine:
    role: str
    text: str


@dataclass(frozen=True)
class TicketRequest:
    message: str
    preferred_language: str
    consent: bool
    contact_email: str | None = None
    contact_phone: str | None = None
    contact_name: str | None = None
    department: str | None = None
    topic: str | None = None
    conversation_id: str | None = None
    transcript: tuple[TranscriptLine, ...] | None = None
    detected_language: str | None = None


@dataclass(frozen=True)
class CreatedTicket:
    ticket: Ticket
    access_token: str
    replayed: bool  # an earlier request with the same Idempotency-Key made it


def create_ticket(session: Session, *, request: TicketRequest, departments: Collection[str],
                  idempotency_key: str | None, now: datetime,
                  reference_prefix: str = "KR", per_contact_per_hour: int = 0,
                  max_transcript_chars: int | None = None) -> CreatedTicket:
    """`per_contact_per_hour` caps new tickets per e-mail address or phone number
    (0: no cap); `max_transcript_chars` bounds a transcript the client sends."""
    if not request.consent:
        raise InvalidInputError("consent", "consent to store the data is required")
    if not (request.contact_email or request.contact_phone):
        raise InvalidInputError("contact", "give an e-mail address or a phone number")
    department = request.department or DEFAULT_DEPARTMENT
    if request.department is not None and department not in departments:
        raise InvalidInputError("department", f"unknown department {department!r}")

    request_fp = fingerprint(asdict(request))
    key_hash = hash_token(idempotency_key) if idempotency_key is not None else None
    # 1. A short read: an earlier request with the same key, and the stored chat.
    if idempotency_key is not None and key_hash is not None:
        existing = _by_idempotency_key(session, key_hash)
        if existing is not None:
            return _replay(existing, idempotency_key, request_fp)
    if request.transcript and max_transcript_chars is not None:
        size = sum(len(line.text) for line in request.transcript)
        if size > max_transcript_chars:
            raise InvalidInputError("transcript", f"the transcript has {size} characters; "
                                                  f"at most {max_transcript_chars} are accepted")
    if per_contact_per_hour:
        _check_contact_cap(session, request, per_contact_per_hour, now)
    source = _transcript_source(session, request)
    # 2. Masking with no transaction open: on SQLite a writing session's transaction holds
    # the database's write lock, on PostgreSQL the reference counter's row lock.
    session.commit()
    content = _masked_content(request, source)

    # 3. The write, and nothing slow inside it.
    token, salt = issue_token(idempotency_key=idempotency_key, request_fingerprint=request_fp)
    try:
        with session.begin_nested():
            ticket = Ticket(
                reference=next_reference(session, scope=REFERENCE_SCOPE,
                                         prefix=reference_prefix, now=now),
                access_token_hash=hash_token(token), token_salt=salt,
                idempotency_key_hash=key_hash, request_fingerprint=request_fp,
                status="open", department=department, topic=content.topic,
                message=content.message, contact_email=request.contact_email,
                contact_phone=request.contact_phone, contact_name=request.contact_name,
                preferred_language=request.preferred_language,
                detected_language=source.detected_language,
                conversation_id=source.conversation_id, transcript=content.transcript,
                consent_at=now, created_at=now, updated_at=now,
            )
            ticket.events.append(TicketEvent(kind="created", to_status="open",
                                             actor_name=CITIZEN_ACTOR, created_at=now))
            session.add(ticket)
            session.flush()
    except IntegrityError:
        # A concurrent retry with the same key (on this or another replica) won.
        existing = _by_idempotency_key(session, key_hash) if key_hash else None
        if existing is None or idempotency_key is None:
            raise
        session.commit()
        return _replay(existing, idempotency_key, request_fp)
    _commit_or_confirm(session, ticket.access_token_hash)
    return CreatedTicket(ticket=ticket, access_token=token, replayed=False)


def _check_contact_cap(session: Session, request: TicketRequest, cap: int,
                       now: datetime) -> None:
    """Checked before the insert, so concurrent requests may pass it together: a brake
    on one sender flooding the queue, not an exact quota."""
    same_contact = [column == value for column, value in (
        (Ticket.contact_email, request.contact_email),
        (Ticket.contact_phone, request.contact_phone)) if value]
    recent = session.scalar(select(func.count()).select_from(Ticket).where(
        or_(*same_contact), Ticket.created_at > now - timedelta(hours=1))) or 0
    if recent >= cap:
        raise ContactLimitError(
            f"{recent} requests from this e-mail address or phone number arrived in the last "
            f"hour; they will all be answered. For anything urgent, please call the hotline.")


def _commit_or_confirm(session: Session, token_hash: str) -> None:
    """Commit; when the connection broke during COMMIT, the server may have stored the
    ticket anyway: look (on a fresh connection) so the client is told the truth, a 201
    for a stored ticket instead of a 503 that invites a duplicate."""
    try:
        session.commit()
    except DatabaseUnavailableError:
        session.rollback()
        stored = session.scalar(select(Ticket.id).where(Ticket.access_token_hash == token_hash))
        if stored is None:
            raise
        session.commit()


@dataclass(frozen=True)
class _TranscriptSource:
    lines: list[dict[str, Any]] | None
    from_conversation: bool  # the stored chat, not the client's copy
    conversation_id: str | None
    detected_language: str | None


def _transcript_source(session: Session, request: TicketRequest) -> _TranscriptSource:
    lines = [asdict(line) for line in request.transcript] if request.transcript else None
    if request.conversation_id is None:
        return _TranscriptSource(lines, False, None, request.detected_language)
    conversation = get_conversation(session, request.conversation_id)
    if conversation is not None:
        # The stored conversation is authoritative over what the client sent.
        return _TranscriptSource(
            [{"role": m.role, "text": m.text, "at": m.created_at.isoformat()}
             for m in conversation.messages], True, request.conversation_id,
            conversation.language or request.detected_language)
    if lines is None:
        raise InvalidInputError("conversation_id", "no conversation with this id")
    # Only the client's copy of the chat exists.
    return _TranscriptSource(lines, False, None, request.detected_language)


@dataclass(frozen=True)
class _MaskedContent:
    message: str
    topic: str | None
    transcript: list[dict[str, Any]] | None


def _masked_content(request: TicketRequest, source: _TranscriptSource) -> _MaskedContent:
    """What the ticket stores outside its contact fields, with personal identifiers
    masked. The stored chat's assistant lines are the service's own words (the hotline's
    number stays readable); a client's copy may put anything in any role."""
    transcript = None
    if source.lines is not None:
        roles = CITIZEN_ROLES if source.from_conversation else None
        transcript = mask_transcript(source.lines, roles=roles)
    return _MaskedContent(message=mask_text(request.message),
                          topic=mask_text(request.topic) if request.topic else request.topic,
                          transcript=transcript)


def _by_idempotency_key(session: Session, key_hash: str) -> Ticket | None:
    return session.scalars(
        select(Ticket).where(Ticket.idempotency_key_hash == key_hash)
    ).one_or_none()


def _replay(ticket: Ticket, idempotency_key: str, request_fp: str) -> CreatedTicket:
    if ticket.request_fingerprint != request_fp:
        raise InvalidInputError("Idempotency-Key",
                                "this Idempotency-Key was already used for a different request")
    token = derive_token(salt=ticket.token_salt, seed=idempotency_key,
                         request_fingerprint=request_fp)
    return CreatedTicket(ticket=ticket, access_token=token, replayed=True)


def _citizen_query(reference: str, token: str) -> Select[Ticket]:
    # Same answer, by the same path, for an unknown reference and a wrong token: the
    # token is part of the lookup, so nothing more (the history) is read for a
    # reference that exists, and its timing does not confirm that it does. A token is
    # the one shown at creation or one sent in a notification e-mail.
    token_hash = hash_token(token)
    return select(Ticket).where(
        Ticket.reference == reference,
        or_(Ticket.access_token_hash == token_hash,
            exists().where(TicketAccessCode.ticket_id == Ticket.id,
                           TicketAccessCode.token_hash == token_hash)))


def get_ticket_for_citizen(session: Session, *, reference: str, token: str,
                           for_update: bool = False) -> Ticket:
    query = _citizen_query(reference, token)
    if for_update:
        query = query.with_for_update()
    ticket = session.scalars(query.options(selectinload(Ticket.events))).one_or_none()
    if ticket is None:
        raise NotFoundError("no ticket with this reference and access token")
    return ticket


def add_citizen_message(session: Session, *, reference: str, token: str, text: str,
                        now: datetime) -> Ticket:
    """The citizen's answer from the status page, masked like everything they type
    outside the contact fields. A ticket waiting for them (or resolved) goes back to
    in_progress; a closed one is read-only."""
    if not text.strip():
        raise InvalidInputError("text", "must not be empty")
    masked = mask_text(text)  # before the write transaction opens (see create_ticket)
    ticket = get_ticket_for_citizen(session, reference=reference, token=token,
                                    for_update=True)
    if ticket.status == "closed":
        raise InvalidTransitionError(f"{reference} is closed; closed tickets are read-only")
    ticket.events.append(TicketEvent(kind="citizen_reply", body=masked,
                                     actor_name=CITIZEN_ACTOR, created_at=now))
    if ticket.status in CITIZEN_REOPENS:
        ticket.events.append(TicketEvent(kind="status", from_status=ticket.status,
                                         to_status="in_progress", actor_name=CITIZEN_ACTOR,
                                         created_at=now))
        ticket.status = "in_progress"
    ticket.updated_at = now
    session.commit()
    return ticket


def get_ticket(session: Session, *, reference: str, for_update: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.reference == reference)
    if for_update:
        query = query.with_for_update()
    ticket = session.scalars(query.options(selectinload(Ticket.events))).one_or_none()
    if ticket is None:
        raise NotFoundError(f"no ticket {reference}")
    return ticket


def list_tickets(session: Session, *, now: datetime, statuses: Sequence[str] | None = None,
                 department: str | None = None, language: str | None = None,
                 min_age: timedelta | None = None, max_age: timedelta | None = None,
                 limit: int = 50, offset: int = 0) -> tuple[list[Ticket], int]:
    """The queue, oldest first, and how many tickets match in total."""
    conditions: list[ColumnElement[bool]] = []
    if statuses:
        unknown = set(statuses) - set(TICKET_STATUSES)
        if unknown:
            raise InvalidInputError("status", f"unknown status {sorted(unknown)[0]!r}")
        conditions.append(Ticket.status.in_(statuses))
    if department:
        conditions.append(Ticket.department == department)
    if language:
        conditions.append(Ticket.preferred_language == language)
    if min_age is not None:
        conditions.append(Ticket.created_at <= now - min_age)
    if max_age is not None:
        conditions.append(Ticket.created_at >= now - max_age)
    total = session.scalar(select(func.count()).select_from(Ticket).where(*conditions)) or 0
    tickets = session.scalars(
        select(Ticket).where(*conditions).order_by(Ticket.created_at, Ticket.id)
        .limit(limit).offset(offset)
    ).all()
    return list(tickets), total


def change_status(session: Session, *, reference: str, to_status: str, actor: Actor,
                  now: datetime, comment: str | None = None,
                  notify: Notify | None = None) -> Ticket:
    """`notify`: the citizen gets an e-mail (through the outbox, in this transaction)."""
    if to_status not in TICKET_STATUSES:
        raise InvalidInputError("status", f"unknown status {to_status!r}")
    # Row lock: two agents moving the same ticket at once must not both pass the check.
    ticket = get_ticket(session, reference=reference, for_update=True)
    from_status = ticket.status
    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[from_status])) or "none"
        raise InvalidTransitionError(
            f"{reference} is {from_status}; it can move to: {allowed}")
    ticket.status = to_status
    ticket.updated_at = now
    ticket.closed_at = now if to_status == "closed" else None
    ticket.events.append(TicketEvent(kind="status", from_status=from_status, to_status=to_status,
                                     body=comment, actor_name=actor.name,
                                     actor_user_id=actor.user_id, created_at=now))
    if notify is not None:
        enqueue(session, ticket=ticket, kind="status", to_status=to_status,
                base_url=notify.base_url, deliver=notify.deliver, now=now)
    session.commit()
    return ticket


def add_note(session: Session, *, reference: str, text: str, actor: Actor,
             now: datetime) -> TicketEvent:
    """An internal note: agents see it, the citizen never does."""
    return _add_text_event(session, reference=reference, kind="note", text=text, actor=actor,
                           now=now)


def add_reply(session: Session, *, reference: str, text: str, actor: Actor,
              now: datetime, notify: Notify | None = None) -> TicketEvent:
    """A reply to the citizen, shown on the ticket's status page; with `notify`, the
    citizen gets an e-mail (through the outbox, in the same transaction)."""
    return _add_text_event(session, reference=reference, kind="reply", text=text, actor=actor,
                           now=now, notify=notify)


def _add_text_event(session: Session, *, reference: str, kind: str, text: str, actor: Actor,
                    now: datetime, notify: Notify | None = None) -> TicketEvent:
    if not text.strip():
        raise InvalidInputError("text", "must not be empty")
    ticket = get_ticket(session, reference=reference, for_update=True)
    if ticket.status == "closed":
        raise InvalidTransitionError(f"{reference} is closed; closed tickets are read-only")
    event = TicketEvent(kind=kind, body=text, actor_name=actor.name,
                        actor_user_id=actor.user_id, created_at=now)
    ticket.events.append(event)
    ticket.updated_at = now
    if notify is not None:
        enqueue(session, ticket=ticket, kind=kind, to_status=None, base_url=notify.base_url,
                deliver=notify.deliver, now=now)
    session.commit()
    return event
