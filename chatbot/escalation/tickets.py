"""Tickets: created by citizens (from a chat or directly), worked on by agents."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
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
from chatbot.escalation.masking import (
    CITIZEN_ROLES,
    city_contacts,
    mask_text,
    mask_transcript,
)
from chatbot.escalation.outbox import enqueue
from chatbot.escalation.references import next_reference
from chatbot.escalation.tokens import (
    derive_token,
    fingerprint,
    hash_token,
    issue_token,
)
from chatbot.escalation.users import Actor, get_agent
from chatbot.storage.models import (
    TICKET_STATUSES,
    Conversation,
    Ticket,
    TicketAccessCode,
    TicketEvent,
)

DEFAULT_DEPARTMENT = "allgemein"
MAX_SUBJECT_CHARS = 200  # the topic column
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
                  max_transcript_chars: int | None = None,
                  hotline_phone: str | None = None,
                  require_contact: bool = True) -> CreatedTicket:
    """`per_contact_per_hour` caps new tickets per e-mail address or phone number
    (0: no cap); `max_transcript_chars` bounds a transcript the client sends;
    `hotline_phone` is the city's number, never masked.

    A chat ticket is triaged from the stored conversation (`_chat_triage`): the
    department of the topic the chat was confident about, else `allgemein`; the
    subject is the topic the client names (the article's title) or the question that
    escalated. `require_contact` false: a defect report, whose e-mail is optional.
    """
    if not request.consent:
        raise InvalidInputError("consent", "consent to store the data is required")
    if require_contact and not (request.contact_email or request.contact_phone):
        raise InvalidInputError("contact", "give an e-mail address or a phone number")
    if request.department is not None and request.department not in departments:
        raise InvalidInputError("department", f"unknown department {request.department!r}")

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
    department = _department(request, source, departments)
    # 2. Masking with no transaction open: on SQLite a writing session's transaction holds
    # the database's write lock, on PostgreSQL the reference counter's row lock.
    session.commit()
    content = _masked_content(request, source, hotline_phone)

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
class _ChatTriage:
    """What the stored chat says about where its ticket belongs."""

    department: str | None
    """The department of the last reply's topic, only when the chat was confident of
    it (a "may help" article or a request for a person after an unrelated question
    says nothing about the department)."""
    question: str | None
    """The citizen's last message (stored masked): the question that escalated."""


def _chat_triage(conversation: Conversation) -> _ChatTriage:
    last_reply = next((m for m in reversed(conversation.messages) if m.role == "assistant"),
                      None)
    question = next((m.text for m in reversed(conversation.messages) if m.role == "citizen"),
                    None)
    confident = last_reply is not None and bool(last_reply.topic_confident)
    return _ChatTriage(department=last_reply.department if last_reply and confident else None,
                       question=question)


@dataclass(frozen=True)
class _TranscriptSource:
    lines: list[dict[str, Any]] | None
    from_conversation: bool  # the stored chat, not the client's copy
    conversation_id: str | None
    detected_language: str | None
    triage: _ChatTriage | None = None


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
            conversation.language or request.detected_language,
            _chat_triage(conversation))
    if lines is None:
        raise InvalidInputError("conversation_id", "no conversation with this id")
    # Only the client's copy of the chat exists.
    return _TranscriptSource(lines, False, None, request.detected_language)


def _department(request: TicketRequest, source: _TranscriptSource,
                departments: Collection[str]) -> str:
    """A stored chat decides: its confident topic's department, else `allgemein`, so
    that a stale or forged department from the client does not misroute it. Without
    one, the department the client chose (a form's), else `allgemein`."""
    if source.triage is not None:
        found = source.triage.department
        return found if found is not None and found in departments else DEFAULT_DEPARTMENT
    return request.department or DEFAULT_DEPARTMENT


@dataclass(frozen=True)
class _MaskedContent:
    message: str
    topic: str | None
    transcript: list[dict[str, Any]] | None


def _masked_content(request: TicketRequest, source: _TranscriptSource,
                    hotline_phone: str | None) -> _MaskedContent:
    """What the ticket stores outside its contact fields, with the citizen's personal
    identifiers masked and the city's own contacts readable.

    The stored chat's assistant lines are the service's own words, composed from the
    articles and settings; they never quote what the citizen typed, so they are not
    masked at all, and every number or address in them is the city's: a citizen who
    repeats one ("I called 02151 86-0") keeps it readable too. A client's copy of the
    chat may put anything in any role, so every line of it is masked, keeping only the
    hotline's number."""
    own_words = [str(line.get("text", "")) for line in source.lines or ()
                 if source.from_conversation and line.get("role") not in CITIZEN_ROLES]
    keep = city_contacts(*([hotline_phone] if hotline_phone else []), *own_words)
    transcript = None
    if source.lines is not None:
        roles = CITIZEN_ROLES if source.from_conversation else None
        transcript = mask_transcript(source.lines, roles=roles, keep=keep)
    message = mask_text(request.message, keep=keep)
    question = source.triage.question if source.triage else None
    # Stored chat messages are masked already; the topic a client sends is not.
    subject = (mask_text(request.topic, keep=keep) if request.topic
               else question or message)
    return _MaskedContent(message=message, topic=_subject(subject), transcript=transcript)


def _subject(text: str) -> str:
    """One line of at most MAX_SUBJECT_CHARS, cut at a word where possible."""
    line = " ".join(text.split())
    if len(line) <= MAX_SUBJECT_CHARS:
        return line
    cut = line[:MAX_SUBJECT_CHARS - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > MAX_SUBJECT_CHARS // 2 else cut) + "…"


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
                        now: datetime, hotline_phone: str | None = None) -> Ticket:
    """The citizen's answer from the status page, masked like everything they type
    outside the contact fields (`hotline_phone`, the city's number, stays readable). A
    ticket waiting for them (or resolved) goes back to in_progress; a closed one is
    read-only."""
    if not text.strip():
        raise InvalidInputError("text", "must not be empty")
    keep = city_contacts(hotline_phone) if hotline_phone else frozenset()
    # Masked before the write transaction opens (see create_ticket).
    masked = mask_text(text, keep=keep)
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


def handled_by(actor: Actor) -> ColumnElement[bool]:
    """The tickets an agent can handle: assigned to them, or nobody's yet and in a
    department (or `allgemein`, which every agent triages) and a language they serve.
    Tickets a colleague took are theirs; "all" shows them."""
    conditions: list[ColumnElement[bool]] = [Ticket.assignee_user_id.is_(None)]
    if actor.departments is not None:
        conditions.append(Ticket.department.in_({*actor.departments, DEFAULT_DEPARTMENT}))
    if actor.languages is not None:
        conditions.append(Ticket.preferred_language.in_(actor.languages))
    if actor.user_id is None:
        return and_(*conditions)
    return or_(Ticket.assignee_user_id == actor.user_id, and_(*conditions))


def list_tickets(session: Session, *, now: datetime, statuses: Sequence[str] | None = None,
                 department: str | None = None, language: str | None = None,
                 min_age: timedelta | None = None, max_age: timedelta | None = None,
                 for_agent: Actor | None = None,
                 limit: int = 50, offset: int = 0) -> tuple[list[Ticket], int]:
    """The queue, oldest first, and how many tickets match in total; with `for_agent`,
    only what that agent can handle (`handled_by`)."""
    conditions: list[ColumnElement[bool]] = []
    if for_agent is not None:
        conditions.append(handled_by(for_agent))
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


def assign(session: Session, *, reference: str, assignee: str | None, actor: Actor,
           now: datetime) -> Ticket:
    """Give the ticket to an active agent (None: back to the queue), recorded in its
    history. Assigning it to whom it already belongs changes nothing."""
    user = get_agent(session, name=assignee) if assignee is not None else None
    ticket = get_ticket(session, reference=reference, for_update=True)
    if ticket.status == "closed":
        raise InvalidTransitionError(f"{reference} is closed; closed tickets are read-only")
    new_id = user.id if user is not None else None
    if ticket.assignee_user_id == new_id:
        session.commit()
        return ticket
    ticket.assignee_user_id = new_id
    ticket.assignee = user
    ticket.assigned_at = now if user is not None else None
    ticket.updated_at = now
    ticket.events.append(TicketEvent(kind="assigned", body=assignee, actor_name=actor.name,
                                     actor_user_id=actor.user_id, created_at=now))
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
