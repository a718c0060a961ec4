"""Forwarding defect reports to the Open311 endpoint, durably.

The e-mail outbox's design (`chatbot.escalation.outbox`), on the `defect_reports`
rows: a forwarder claims due rows with a lease (`claim_due`), posts each, and marks it
`forwarded` with the endpoint's service_request_id (the photo is dropped then). A
failure schedules the next attempt with the outbox's `backoff`; after
`outbox_max_attempts`, or when the endpoint refuses the report itself (400, 404, 422),
the row is `failed` (`chatbot defects retry` queues it again). A refused api_key
(401/403) is an operator's error and is retried like an outage. When the outcome of a
post is unknown (`Open311OutcomeUnknownError`: a read timeout or broken connection after
sending, a 2xx answer without a usable service_request_id) the row is `failed` at once
with `last_error` saying so: an agent checks the endpoint before queueing it again.

A forwarder claims one row at a time (claim, post, finish), so no row waits under a
lease while others are posted; the finishing update only touches a row still `pending`
and claimed by this forwarder.

The route forwards a new report at once (so the citizen sees the id); the server's
background task, or `chatbot defects send`, sends whatever is still due.

GeoReport v2 has no idempotency key, so a forwarder that dies after the endpoint
accepted a report but before marking it leaves it to be sent again when the lease ends
(the only remaining way to a copy). Retries happen only when the endpoint certainly did
not create the report (no connection, a connect timeout, a 5xx, a 4xx).
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from chatbot.config import Settings
from chatbot.defects.client import (
    NewRequest,
    Open311,
    Open311Client,
    Open311OutcomeUnknownError,
    Open311RefusedError,
    Open311UnavailableError,
    RequestStatus,
)
from chatbot.escalation.clock import Clock
from chatbot.escalation.outbox import BATCH, backoff, claim_due, due
from chatbot.storage import Database
from chatbot.storage.models import DefectReport

log = logging.getLogger(__name__)

PERMANENT_REFUSALS = frozenset({400, 404, 422})
STATUS_REFRESH = timedelta(minutes=15)


@dataclass(frozen=True)
class ForwardReport:
    forwarded: int = 0
    retrying: int = 0
    failed: int = 0


def open311_client(settings: Settings) -> Open311Client | None:
    if settings.open311_url is None:
        return None
    key = settings.open311_api_key.get_secret_value() if settings.open311_api_key else None
    return Open311Client(settings.open311_url, api_key=key,
                         jurisdiction_id=settings.open311_jurisdiction_id,
                         timeout=settings.open311_timeout_seconds)


class Forwarder:
    """One per process (the server's task, or the CLI)."""

    def __init__(self, database: Database, client: Open311, *, clock: Clock,
                 max_attempts: int, backoff_base: timedelta) -> None:
        self.database = database
        self.client = client
        self.clock = clock
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.worker = f"{socket.gethostname()[:40]}:{os.getpid()}:open311"

    def send_due(self, *, limit: int = BATCH) -> ForwardReport:
        now = self.clock()
        with self.database.session() as session:
            first = session.scalar(select(DefectReport.id)
                                   .where(due(now, DefectReport)).limit(1))
        if first is None:
            return ForwardReport()
        counts = {"forwarded": 0, "retrying": 0, "failed": 0}
        for _ in range(limit):  # one at a time: each row's lease starts when it is posted
            with self.database.write_session() as session:
                ids = claim_due(session, now=self.clock(), worker=self.worker, limit=1,
                                model=DefectReport)
            if not ids:
                break
            counts[self._forward(ids[0])] += 1
        return ForwardReport(**counts)

    def forward_now(self, report_id: int) -> str | None:
        """Try one report at once (the citizen waits for its id): "forwarded",
        "retrying" or "failed"; None when another forwarder holds it."""
        with self.database.write_session() as session:
            ids = claim_due(session, now=self.clock(), worker=self.worker, limit=1,
                            model=DefectReport, ids=[report_id])
        return self._forward(report_id) if ids else None

    def _forward(self, report_id: int) -> str:
        with self.database.session() as session:
            report = session.get(DefectReport, report_id)
            if report is None or report.state != "pending":
                return "failed"
            request = NewRequest(
                service_code=report.service_code, description=report.description,
                address_string=report.address_string, lat=report.lat, lon=report.lon,
                email=report.email, photo=report.photo, photo_type=report.photo_type)
            reference = report.reference
        try:
            service_request_id = self.client.create(request)
        except Open311OutcomeUnknownError as exc:
            return self._failed(report_id, reference, str(exc), permanent=True)
        except Open311UnavailableError as exc:
            return self._failed(report_id, reference, str(exc), permanent=False)
        except Open311RefusedError as exc:
            return self._failed(report_id, reference, str(exc),
                                permanent=exc.status in PERMANENT_REFUSALS)
        with self.database.write_session() as session:
            result = session.execute(update(DefectReport).where(
                DefectReport.id == report_id, DefectReport.state == "pending",
                DefectReport.claimed_by == self.worker).values(
                state="forwarded", service_request_id=service_request_id,
                forwarded_at=self.clock(), claimed_until=None, last_error=None, photo=None,
                attempts=DefectReport.attempts + 1, remote_status="open"),
                execution_options={"synchronize_session": False})
            session.commit()
        if not getattr(result, "rowcount", 0):
            log.error("open311: defect report %s was forwarded as service request %s after "
                      "this forwarder's lease was lost; another forwarder holds it (possible "
                      "duplicate at the endpoint)", reference, service_request_id)
            return "failed"
        log.info("open311: defect report %s forwarded as service request %s", reference,
                 service_request_id)
        return "forwarded"

    def _failed(self, report_id: int, reference: str, reason: str, *, permanent: bool) -> str:
        now = self.clock()
        with self.database.write_session() as session:
            row = session.get(DefectReport, report_id, with_for_update=True)
            if row is None or row.state != "pending" or row.claimed_by != self.worker:
                session.commit()
                log.warning("open311: defect report %s not forwarded (%s), and its lease is "
                            "lost: left to its current holder", reference, reason)
                return "failed" if row is None or row.state == "failed" else "retrying"
            row.attempts += 1
            row.last_error = reason[:500]
            row.claimed_until = None
            if permanent or row.attempts >= self.max_attempts:
                row.state = "failed"
            else:
                row.next_attempt_at = now + backoff(row.attempts, self.backoff_base)
            state, attempts = row.state, row.attempts
            session.commit()
        log.warning("open311: defect report %s not forwarded (attempt %d of %d): %s",
                    reference, attempts, self.max_attempts, reason)
        return "failed" if state == "failed" else "retrying"

    def refresh_status(self, report_id: int) -> RequestStatus | None:
        """The endpoint's current status of a forwarded report, stored on the row;
        None when the report is not forwarded or the endpoint cannot say right now."""
        with self.database.session() as session:
            report = session.get(DefectReport, report_id)
            identifier = report.service_request_id if report else None
        if identifier is None:
            return None
        try:
            status = self.client.status(identifier)
        except (Open311UnavailableError, Open311RefusedError) as exc:
            log.warning("open311: status of %s unavailable: %s", identifier, exc)
            return None
        with self.database.write_session() as session:
            session.execute(update(DefectReport).where(DefectReport.id == report_id).values(
                remote_status=status.status, remote_status_notes=status.status_notes,
                remote_checked_at=self.clock()),
                execution_options={"synchronize_session": False})
            session.commit()
        return status


    def refresh_stale(self, *, older_than: timedelta = STATUS_REFRESH,
                      limit: int = BATCH) -> int:
        """Ask the endpoint again about forwarded reports not known to be closed whose
        status is older than `older_than` (the agents' console shows it); how many."""
        cutoff = self.clock() - older_than
        with self.database.session() as session:
            ids = list(session.scalars(
                select(DefectReport.id).where(
                    DefectReport.state == "forwarded",
                    or_(DefectReport.remote_status.is_(None),
                        DefectReport.remote_status != "closed"),
                    or_(DefectReport.remote_checked_at.is_(None),
                        DefectReport.remote_checked_at <= cutoff))
                .order_by(DefectReport.id).limit(limit)).all())
        return sum(1 for report_id in ids if self.refresh_status(report_id) is not None)


def retry_failed(database: Database, *, now: datetime, ids: list[int] | None = None) -> int:
    """Queue failed reports (all, or those in `ids`) for a new round of attempts."""
    query = update(DefectReport).where(DefectReport.state == "failed")
    if ids:
        query = query.where(DefectReport.id.in_(ids))
    with database.write_session() as session:
        result = session.execute(query.values(state="pending", attempts=0, next_attempt_at=now,
                                              claimed_until=None, claimed_by=None),
                                 execution_options={"synchronize_session": False})
        session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def forwarder(settings: Settings, database: Database, clock: Clock,
              client: Open311 | None = None) -> Forwarder | None:
    """The forwarder for this process, or None without an endpoint."""
    client = client or open311_client(settings)
    if client is None:
        return None
    return Forwarder(database, client, clock=clock, max_attempts=settings.outbox_max_attempts,
                     backoff_base=timedelta(seconds=settings.outbox_backoff_seconds))
