"""Declarative models of the escalation back office.

Every invariant that must hold across replicas (unique references, one booking per
counter and slot, one ticket per idempotency key) is a database constraint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from chatbot.storage.types import UTCDateTime

# Deterministic constraint names, so later migrations can alter or drop them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TICKET_STATUSES = ("open", "in_progress", "waiting_for_citizen", "resolved", "closed")
# "assigned": the ticket's assignee changed (body: the new assignee, null: the queue);
# "citizen_reply": what the citizen wrote back on the ticket's status page (masked).
TICKET_EVENT_KINDS = ("created", "status", "note", "reply", "assigned", "citizen_reply")
# The e-mail outbox (chatbot.escalation.outbox): pending until sent; failed after the
# last attempt; skipped when it could not or need not be sent (no SMTP configured, no
# e-mail address left on the ticket).
OUTBOX_STATES = ("pending", "sent", "failed", "skipped")
OUTBOX_KINDS = ("reply", "status")
# A defect report's forwarding: waiting for (another) attempt, accepted by the Open311
# endpoint, given up on after max attempts or a refusal, or made a ticket (no endpoint).
DEFECT_STATES = ("pending", "forwarded", "failed", "ticket")
USER_ROLES = ("agent", "editor")
MESSAGE_ROLES = ("citizen", "assistant")
# The chat's reply types (chatbot.dialogue.policy.ReplyType), stored with each reply.
REPLY_TYPES = ("answer", "clarify", "escalate", "unsupported_language")

HASH_CHARS = 64  # SHA-256 hex digest


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class ReferenceCounter(Base):
    """The last number handed out per reference scope (ticket, appointment) and year.

    Incremented with UPDATE inside the creating transaction: the row lock serialises
    concurrent creators on every replica, and a rollback returns the number.
    """

    __tablename__ = "reference_counters"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", USER_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(HASH_CHARS), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # What an agent serves, for the default queue (migration 0006); NULL: everything.
    departments: Mapped[list[str] | None] = mapped_column(JSON)
    languages: Mapped[list[str] | None] = mapped_column(JSON)


class Conversation(Base):
    """A chat conversation, so a ticket can carry its transcript and purge can age it."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]
    last_activity_at: Mapped[datetime] = mapped_column(index=True)

    messages: Mapped[list[ConversationMessage]] = relationship(
        back_populates="conversation", order_by="ConversationMessage.id",
        cascade="all, delete-orphan", passive_deletes=True,
    )


class ConversationMessage(Base):
    """One message of a conversation.

    `language` is the conversation's (supported) language for the turn. Citizens'
    messages also keep what the detector said (`detected_language`, also an
    unsupported code such as "ar"); assistants' replies keep the reply type and the
    article they were about, so editors can see which questions the chat could not
    answer (migration 0003; older rows have NULL there).
    """

    __tablename__ = "conversation_messages"
    __table_args__ = (
        CheckConstraint(_in("role", MESSAGE_ROLES), name="role"),
        # NULL passes a CHECK: citizens' messages and rows from before 0003.
        CheckConstraint(_in("reply_type", REPLY_TYPES), name="reply_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]
    detected_language: Mapped[str | None] = mapped_column(String(8))
    reply_type: Mapped[str | None] = mapped_column(String(24))
    article_id: Mapped[str | None] = mapped_column(String(200))
    """The article the reply was about: the answer, the first choice, the escalation topic."""
    department: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    topic_confident: Mapped[bool | None] = mapped_column(Boolean)
    """The article was a confident topic that a follow-up may inherit (migration 0005)."""

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_in("status", TICKET_STATUSES), name="status"),
        Index("ix_tickets_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    access_token_hash: Mapped[str] = mapped_column(String(HASH_CHARS))
    token_salt: Mapped[str] = mapped_column(String(HASH_CHARS))
    idempotency_key_hash: Mapped[str | None] = mapped_column(String(HASH_CHARS), unique=True)
    request_fingerprint: Mapped[str] = mapped_column(String(HASH_CHARS))
    status: Mapped[str] = mapped_column(String(32))
    department: Mapped[str] = mapped_column(String(64), index=True)
    topic: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    preferred_language: Mapped[str] = mapped_column(String(8), index=True)
    detected_language: Mapped[str | None] = mapped_column(String(8))
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"))
    # A masked copy: the ticket keeps what the agent saw even after the conversation
    # itself is purged.
    transcript: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    consent_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    # The agent working on it (migration 0006); NULL: not assigned yet.
    assignee_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    assigned_at: Mapped[datetime | None]

    # selectin, not joined: PostgreSQL refuses FOR UPDATE beside an outer join.
    assignee: Mapped[User | None] = relationship(lazy="selectin")
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id",
        cascade="all, delete-orphan", passive_deletes=True,
    )


class TicketEvent(Base):
    """The ticket's history: creation, every status change, notes and replies, with who."""

    __tablename__ = "ticket_events"
    __table_args__ = (CheckConstraint(_in("kind", TICKET_EVENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str | None] = mapped_column(Text)
    actor_name: Mapped[str] = mapped_column(String(64))
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class TicketAccessCode(Base):
    """A further access token of a ticket, besides the one shown at creation: every
    notification e-mail carries a fresh one (the first is stored only as a hash, so it
    cannot be put into a later e-mail). Only the hash is stored."""

    __tablename__ = "ticket_access_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    token_hash: Mapped[str] = mapped_column(String(HASH_CHARS), unique=True)
    created_at: Mapped[datetime]


class OutboxMessage(Base):
    """An e-mail to send, written in the transaction of the change it reports, so that
    an SMTP outage delays it but cannot lose it.

    The message itself (with its access code) is composed only when it is sent: the
    table holds no token and no text, only what happened and where the link points.
    A sender claims a row by setting `claimed_until` (a lease: a sender that died
    releases its rows when the lease runs out).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("state", OUTBOX_STATES), name="state"),
        CheckConstraint(_in("kind", OUTBOX_KINDS), name="kind"),
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(32))
    base_url: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship()


class DefectReport(Base):
    """A citizen's defect report (street light, pothole, ...), also its own outbox row:
    stored with the citizen's request, forwarded to the Open311 endpoint later with the
    e-mail outbox's claim/lease/backoff design (`chatbot.escalation.outbox.claim_due`).
    The photo is kept only until the report is forwarded."""

    __tablename__ = "defect_reports"
    __table_args__ = (
        CheckConstraint(_in("state", DEFECT_STATES), name="state"),
        CheckConstraint("address_string IS NOT NULL OR (lat IS NOT NULL AND lon IS NOT NULL)",
                        name="location"),
        Index("ix_defect_reports_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    access_token_hash: Mapped[str] = mapped_column(String(HASH_CHARS), unique=True)
    # A retried POST with the same Idempotency-Key gets this report back (and its token,
    # derived again from the salt, the key and the request's fingerprint).
    idempotency_key_hash: Mapped[str | None] = mapped_column(String(HASH_CHARS), unique=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(HASH_CHARS))
    token_salt: Mapped[str | None] = mapped_column(String(HASH_CHARS))
    service_code: Mapped[str] = mapped_column(String(100))
    service_name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    address_string: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    email: Mapped[str | None] = mapped_column(String(254))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    photo_type: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    consent_at: Mapped[datetime]
    created_at: Mapped[datetime]
    # Forwarding (the outbox part).
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(500))
    forwarded_at: Mapped[datetime | None]
    service_request_id: Mapped[str | None] = mapped_column(String(100), index=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"))
    # The endpoint's answer to GET /requests/{id}.json, as last seen.
    remote_status: Mapped[str | None] = mapped_column(String(32))
    remote_status_notes: Mapped[str | None] = mapped_column(Text)
    remote_checked_at: Mapped[datetime | None]


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("counter_number >= 1", name="counter_number"),
        CheckConstraint("slot_end > slot_start", name="slot_order"),
        # The capacity rule itself: one live booking per counter and slot. Cancelled
        # rows stay for the record but no longer occupy the counter.
        Index("uq_appointments_slot_counter", "service", "slot_start", "counter_number",
              unique=True, sqlite_where=text("cancelled_at IS NULL"),
              postgresql_where=text("cancelled_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    cancel_token_hash: Mapped[str] = mapped_column(String(HASH_CHARS))
    # The .ics link's read-only token (NULL on rows booked before revision 0006).
    ics_token_hash: Mapped[str | None] = mapped_column(String(HASH_CHARS), unique=True)
    token_salt: Mapped[str] = mapped_column(String(HASH_CHARS))
    idempotency_key_hash: Mapped[str | None] = mapped_column(String(HASH_CHARS), unique=True)
    request_fingerprint: Mapped[str] = mapped_column(String(HASH_CHARS))
    service: Mapped[str] = mapped_column(String(64))
    slot_start: Mapped[datetime] = mapped_column(index=True)
    slot_end: Mapped[datetime]
    counter_number: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    preferred_language: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime]
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]


class ChatFeedback(Base):
    """A citizen's rating of one chat reply, for editors."""

    __tablename__ = "chat_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    turn: Mapped[int] = mapped_column(Integer)
    helpful: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)


# --- index versions shared by replicas on several machines (chatbot.index.distribution)


class IndexVersion(Base):
    """A complete index version, published for every replica: its manifest and the
    SHA-256 of its archive (stored in `index_version_blobs`)."""

    __tablename__ = "index_versions"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(200))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(HASH_CHARS))
    size: Mapped[int] = mapped_column(BigInteger)
    parts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(index=True)
    published_by: Mapped[str] = mapped_column(String(200))


class IndexVersionBlob(Base):
    """One part (at most 8 MB) of a version's archive, in order of `seq`."""

    __tablename__ = "index_version_blobs"

    version: Mapped[str] = mapped_column(
        ForeignKey("index_versions.version", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class IndexCurrent(Base):
    """The one version every replica serves: a single row whose `generation` grows with
    each publish or rollback, so replicas notice a change without comparing clocks."""

    __tablename__ = "index_current"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[str] = mapped_column(
        ForeignKey("index_versions.version", ondelete="RESTRICT"))
    generation: Mapped[int] = mapped_column(Integer)
    set_at: Mapped[datetime]
    set_by: Mapped[str] = mapped_column(String(200))


class IndexReplica(Base):
    """A serving process reporting in: which version it serves, and why it does not serve
    the current one if it refused it."""

    __tablename__ = "index_replicas"

    replica_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    index_dir: Mapped[str] = mapped_column(Text)
    serving_version: Mapped[str | None] = mapped_column(String(64))
    model_id: Mapped[str | None] = mapped_column(String(200))
    problem: Mapped[str | None] = mapped_column(Text)
    last_seen: Mapped[datetime] = mapped_column(index=True)
