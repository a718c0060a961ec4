"""The e-mail outbox: notifications written with the change they report, sent later.

A reply or status change and its outbox row commit in one transaction, so a mail is
never promised for a change that was rolled back, nor lost when the SMTP server is
down: the row waits. A sender (the server's background task, or `chatbot outbox
send`) claims due rows, sends each, and marks it sent; a failure schedules the next
attempt with exponential backoff until `max_attempts`, then the row is `failed`
(`chatbot outbox retry` queues it again).

Claims: a row is taken by setting `claimed_until` (a lease) in a short transaction;
on PostgreSQL the candidates are read with `FOR UPDATE SKIP LOCKED`, so two replicas
never wait for or take each other's rows; on SQLite the writing transaction holds the
database's write lock (BEGIN IMMEDIATE), which serialises claims. Delivery is at
least once: a sender that dies after the SMTP server accepted a message but before
marking it sent leaves the row to be sent again when the lease ends (the Message-ID
stays the same, so a receiving server may drop the copy).

The access code in a mail's link is made when the mail is composed and only its hash
is stored (`ticket_access_codes`); the outbox itself holds no token and no text.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from chatbot.config import Settings
from chatbot.errors import InvalidInputError
from chatbot.escalation.clock import Clock
from chatbot.escalation.mail import (
    MailComposer,
    MailError,
    SmtpConfig,
    build_message,
    send_mail,
    smtp_config,
)
from chatbot.escalation.status_texts import status_name
from chatbot.escalation.tokens import hash_token, new_token
from chatbot.storage import Database
from chatbot.storage.models import (
    OUTBOX_STATES,
    DefectReport,
    OutboxMessage,
    Ticket,
    TicketAccessCode,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)
BATCH = 20
NOT_CONFIGURED = "e-mail is not configured (CHATBOT_SMTP_URL)"


def status_page_path(reference: str) -> str:
    return f"/anliegen/{quote(reference)}"


def enqueue(session: Session, *, ticket: Ticket, kind: str, to_status: str | None,
            base_url: str, deliver: bool, now: datetime) -> OutboxMessage | None:
    """Add a notification for `ticket` to the caller's transaction (not committed here).
    None when the citizen gave no e-mail address. Without SMTP (`deliver` false) the row
    is stored as `skipped`, so operators see what was not sent."""
    if not ticket.contact_email:
        return None
    message = OutboxMessage(
        ticket_id=ticket.id, kind=kind, to_status=to_status, base_url=base_url.rstrip("/"),
        state="pending" if deliver else "skipped", attempts=0, next_attempt_at=now,
        last_error=None if deliver else NOT_CONFIGURED, created_at=now)
    session.add(message)
    return message


def backoff(attempts: int, base: timedelta) -> timedelta:
    """Wait after the `attempts`-th failure: base, 2 base, 4 base, ... at most 6 hours."""
    wait: timedelta = base * (2 ** max(attempts - 1, 0))
    return min(wait, MAX_BACKOFF)


def list_messages(session: Session, *, states: Sequence[str] | None = None,
                  ticket_id: int | None = None, limit: int = 100) -> list[OutboxMessage]:
    unknown = set(states or ()) - set(OUTBOX_STATES)
    if unknown:
        raise InvalidInputError("state", f"unknown state {sorted(unknown)[0]!r}; one of "
                                         f"{', '.join(OUTBOX_STATES)}")
    query = select(OutboxMessage).order_by(OutboxMessage.id).limit(limit)
    if states:
        query = query.where(OutboxMessage.state.in_(states))
    if ticket_id is not None:
        query = query.where(OutboxMessage.ticket_id == ticket_id)
    return list(session.scalars(query).all())


def retry(session: Session, *, now: datetime, ids: Sequence[int] = ()) -> int:
    """Queue failed and skipped messages (all, or those in `ids`) for a new round of
    attempts; returns how many."""
    query = update(OutboxMessage).where(OutboxMessage.state.in_(("failed", "skipped")))
    if ids:
        query = query.where(OutboxMessage.id.in_(ids))
    result = session.execute(query.values(state="pending", attempts=0, next_attempt_at=now,
                                          claimed_until=None, claimed_by=None),
                             execution_options={"synchronize_session": False})
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


# The durable-delivery design shared by the e-mail outbox and the defect reports'
# forwarding (chatbot.defects.forwarding): a row with `state`, `next_attempt_at`,
# `claimed_until` and `claimed_by`, claimed here, retried with `backoff`.
Leased = type[OutboxMessage] | type[DefectReport]


def due(now: datetime, model: Leased = OutboxMessage) -> ColumnElement[bool]:
    return and_(model.state == "pending", model.next_attempt_at <= now,
                or_(model.claimed_until.is_(None), model.claimed_until <= now))


def claim_due(session: Session, *, now: datetime, worker: str, lease: timedelta = LEASE,
              limit: int = BATCH, model: Leased = OutboxMessage,
              ids: Sequence[int] | None = None) -> list[int]:
    """Take up to `limit` due rows of `model` (of `ids` if given) for `worker` until
    `now + lease`; commits."""
    query = select(model.id).where(due(now, model))
    if ids is not None:
        query = query.where(model.id.in_(ids))
    taken = list(session.scalars(
        query.order_by(model.next_attempt_at, model.id).limit(limit)
        .with_for_update(skip_locked=True)).all())
    if taken:
        session.execute(update(model).where(model.id.in_(taken))
                        .values(claimed_until=now + lease, claimed_by=worker),
                        execution_options={"synchronize_session": False})
    session.commit()
    return taken


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class _Prepared:
    message_id: int
    code_id: int
    recipient: str
    lang: str
    reference: str


class OutboxSender:
    """Sends due notifications; one per process (the server's task or the CLI)."""

    def __init__(self, database: Database, *, config: SmtpConfig, composer: MailComposer,
                 prompts_dir: Path, clock: Clock, max_attempts: int,
                 backoff_base: timedelta) -> None:
        self.database = database
        self.config = config
        self.composer = composer
        self.prompts_dir = prompts_dir
        self.clock = clock
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.worker = f"{socket.gethostname()[:40]}:{os.getpid()}"

    def send_due(self, *, limit: int = BATCH) -> SendReport:
        now = self.clock()
        # A plain read first: on SQLite a claim takes the database's write lock, which the
        # poll should not do every few seconds for nothing.
        with self.database.session() as session:
            first = session.scalar(select(OutboxMessage.id).where(due(now)).limit(1))
        if first is None:
            return SendReport()
        with self.database.write_session() as session:
            ids = claim_due(session, now=now, worker=self.worker, limit=limit)
        counts = {"sent": 0, "retrying": 0, "failed": 0, "skipped": 0}
        for message_id in ids:
            counts[self._deliver(message_id)] += 1
        return SendReport(**counts)

    def _deliver(self, message_id: int) -> str:
        prepared, mail = self._prepare(message_id)
        if prepared is None or mail is None:
            return "skipped"
        try:
            send_mail(self.config, mail)
        except MailError as exc:
            return self._failed(prepared, str(exc))
        with self.database.write_session() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                            .values(state="sent", sent_at=self.clock(), claimed_until=None,
                                    attempts=OutboxMessage.attempts + 1, last_error=None),
                            execution_options={"synchronize_session": False})
            session.commit()
        log.info("outbox: sent notification %d (ticket %s, %s)", message_id,
                 prepared.reference, prepared.lang)
        return "sent"

    def _prepare(self, message_id: int) -> tuple[_Prepared | None, EmailMessage | None]:
        """Compose the mail with a fresh access code (its hash stored, committed before
        sending so the link works the moment the mail arrives)."""
        now = self.clock()
        with self.database.write_session() as session:
            row = session.get(OutboxMessage, message_id)
            if row is None or row.state != "pending":
                session.commit()
                return None, None
            ticket = session.get(Ticket, row.ticket_id)
            if ticket is None or not ticket.contact_email:
                row.state, row.claimed_until = "skipped", None
                row.last_error = "the ticket has no e-mail address any more"
                session.commit()
                return None, None
            code = new_token()
            access = TicketAccessCode(ticket_id=ticket.id, token_hash=hash_token(code),
                                      created_at=now)
            session.add(access)
            session.flush()
            page_url = f"{row.base_url}{status_page_path(ticket.reference)}"
            lang = ticket.preferred_language
            composed = self.composer.compose(
                lang, kind=row.kind, reference=ticket.reference,
                status=status_name(self.prompts_dir, lang, row.to_status or ticket.status),
                link=f"{page_url}#code={code}", page_url=page_url, code=code,
                name=ticket.contact_name)
            prepared = _Prepared(message_id=row.id, code_id=access.id,
                                 recipient=ticket.contact_email, lang=lang,
                                 reference=ticket.reference)
            session.commit()
        mail = build_message(self.config, recipient=prepared.recipient, mail=composed,
                             lang=prepared.lang, message_key=f"outbox-{message_id}")
        return prepared, mail

    def _failed(self, prepared: _Prepared, reason: str) -> str:
        now = self.clock()
        with self.database.write_session() as session:
            # The code never left this process: it must not stay valid.
            session.execute(delete(TicketAccessCode)
                            .where(TicketAccessCode.id == prepared.code_id),
                            execution_options={"synchronize_session": False})
            row = session.get(OutboxMessage, prepared.message_id)
            if row is None:
                session.commit()
                return "failed"
            row.attempts += 1
            row.last_error = reason[:500]
            row.claimed_until = None
            if row.attempts >= self.max_attempts:
                row.state = "failed"
            else:
                row.next_attempt_at = now + backoff(row.attempts, self.backoff_base)
            state = row.state
            attempts = row.attempts
            session.commit()
        log.warning("outbox: notification %d not sent (attempt %d of %d): %s",
                    prepared.message_id, attempts, self.max_attempts, reason)
        return "failed" if state == "failed" else "retrying"


def outbox_sender(settings: Settings, database: Database, clock: Clock) -> OutboxSender | None:
    """The sender for this process, or None when no SMTP server is configured."""
    config = smtp_config(settings)
    if config is None:
        return None
    return OutboxSender(database, config=config, composer=MailComposer(settings.prompts_dir),
                        prompts_dir=settings.prompts_dir, clock=clock,
                        max_attempts=settings.outbox_max_attempts,
                        backoff_base=timedelta(seconds=settings.outbox_backoff_seconds))
