"""The durable forwarding itself: leases between forwarders, concurrent forwarders,
and the retention of defect reports."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from chatbot.defects.client import NewRequest, Open311Client, RequestStatus, Service
from chatbot.defects.forwarding import Forwarder, ForwardReport
from chatbot.defects.reports import DefectRequest, create_report
from chatbot.escalation.outbox import claim_due
from chatbot.escalation.retention import purge
from chatbot.storage import Database
from chatbot.storage.models import DefectReport
from tests.conftest import FakeClock
from tests.open311_server import API_KEY, Open311Server

CATEGORIES = {"SL": "Straßenbeleuchtung", "PH": "Schlagloch"}


def _report(database: Database, clock: FakeClock, text: str = "Lampe aus") -> int:
    with database.write_session() as session:
        return create_report(session, request=DefectRequest(
            service_code="SL", description=text, language="de", consent=True,
            address_string="Ostwall 1"), categories=CATEGORIES, now=clock(), to_ticket=False,
            fallback_department="allgemein", departments={"allgemein"}).report.id


def _forwarder(database: Database, open311: Open311Server, clock: FakeClock,
               worker: str) -> Forwarder:
    forwarder = Forwarder(database, Open311Client(open311.url, api_key=API_KEY,
                                                  jurisdiction_id=None, timeout=5),
                          clock=clock, max_attempts=5, backoff_base=timedelta(seconds=30))
    forwarder.worker = worker
    return forwarder


def test_a_claimed_report_waits_for_the_lease_of_a_forwarder_that_died(
        database: Database, clock: FakeClock, open311: Open311Server) -> None:
    report_id = _report(database, clock)
    with database.write_session() as session:  # a forwarder claims it, then dies
        assert claim_due(session, now=clock(), worker="dead:1", model=DefectReport) == [
            report_id]
    alive = _forwarder(database, open311, clock, "alive:2")
    assert alive.forward_now(report_id) is None
    assert alive.send_due().forwarded == 0
    assert open311.requests == []
    clock.advance(minutes=5, seconds=1)
    assert alive.send_due().forwarded == 1
    assert len(open311.requests) == 1


def test_concurrent_forwarders_send_each_report_once(
        database: Database, clock: FakeClock, open311: Open311Server) -> None:
    ids = [_report(database, clock, f"Lampe {n}") for n in range(12)]
    forwarders = [_forwarder(database, open311, clock, f"w:{n}") for n in range(3)]
    barrier = threading.Barrier(len(forwarders))
    errors: list[BaseException] = []

    def run(forwarder: Forwarder) -> None:
        try:
            barrier.wait()
            for _ in range(4):
                forwarder.send_due(limit=3)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f,)) for f in forwarders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    descriptions = sorted(r.fields["description"] for r in open311.requests)
    assert descriptions == sorted(f"Lampe {n}" for n in range(12))
    with database.session() as session:
        states = set(session.scalars(select(DefectReport.state)
                                     .where(DefectReport.id.in_(ids))))
    assert states == {"forwarded"}


def test_purge_deletes_old_reports_but_not_those_still_waiting(
        database: Database, clock: FakeClock, open311: Open311Server) -> None:
    forwarded = _report(database, clock, "alt, weitergeleitet")
    _forwarder(database, open311, clock, "w:1").forward_now(forwarded)
    open311.stop()
    waiting = _report(database, clock, "alt, wartet")
    _forwarder(database, open311, clock, "w:1").forward_now(waiting)
    clock.advance(days=100)
    recent = _report(database, clock, "neu")
    with database.write_session() as session:
        result = purge(session, older_than=timedelta(days=90), now=clock())
    assert result.defect_reports == 1
    with database.session() as session:
        assert set(session.scalars(select(DefectReport.id))) == {waiting, recent}


@pytest.mark.parametrize("outcome", ["token", "read timeout"])
def test_an_unknown_outcome_fails_the_report_at_once_and_never_sends_it_again(
        database: Database, clock: FakeClock, open311: Open311Server, outcome: str) -> None:
    report_id = _report(database, clock)
    forwarder = _forwarder(database, open311, clock, "w:1")
    if outcome == "token":
        open311.state.post_answer = (200, b'[{"token": "t-77"}]')
    else:
        open311.state.post_delay = 1.0
        forwarder.client = Open311Client(open311.url, api_key=API_KEY, jurisdiction_id=None,
                                         timeout=0.3)
    assert forwarder.forward_now(report_id) == "failed"
    open311.state.post_answer, open311.state.post_delay = None, 0.0
    for _ in range(3):
        clock.advance(hours=7)
        assert forwarder.send_due() == ForwardReport()
    assert len(open311.requests) == 1
    with database.session() as session:
        row = session.get(DefectReport, report_id)
        assert row is not None
        assert (row.state, row.attempts, row.service_request_id) == ("failed", 1, None)
        assert "outcome unknown" in (row.last_error or "")
        assert ("t-77" if outcome == "token" else "ReadTimeout") in (row.last_error or "")


class _SlowClient:
    """The real client; each post takes four minutes of the clock, during which the
    other forwarder polls."""

    def __init__(self, inner: Open311Client, clock: FakeClock) -> None:
        self.inner, self.clock = inner, clock
        self.during: Callable[[], object] = lambda: None

    def services(self) -> list[Service]:
        return self.inner.services()

    def create(self, request: NewRequest) -> str:
        identifier = self.inner.create(request)
        self.clock.advance(minutes=4)
        self.during()
        return identifier

    def status(self, service_request_id: str) -> RequestStatus:
        return self.inner.status(service_request_id)


def test_a_slow_batch_never_lets_a_second_forwarder_send_a_report_again(
        database: Database, clock: FakeClock, open311: Open311Server) -> None:
    for n in range(4):
        _report(database, clock, f"Lampe {n}")
    slow = _SlowClient(Open311Client(open311.url, api_key=API_KEY, jurisdiction_id=None,
                                     timeout=5), clock)
    first = Forwarder(database, slow, clock=clock, max_attempts=5,
                      backoff_base=timedelta(seconds=30))
    first.worker = "slow:1"
    second = _forwarder(database, open311, clock, "quick:2")
    slow.during = lambda: second.send_due(limit=1)
    sent = first.send_due(limit=4)
    second.send_due()
    descriptions = [r.fields["description"] for r in open311.requests]
    assert sorted(descriptions) == [f"Lampe {n}" for n in range(4)]  # each exactly once
    assert sent.forwarded + sent.failed + sent.retrying >= 2
    with database.session() as session:
        assert set(session.scalars(select(DefectReport.state))) == {"forwarded"}


def test_a_forwarder_that_lost_its_lease_does_not_overwrite_the_new_holder(
        database: Database, clock: FakeClock, open311: Open311Server) -> None:
    report_id = _report(database, clock)
    slow = _SlowClient(Open311Client(open311.url, api_key=API_KEY, jurisdiction_id=None,
                                     timeout=5), clock)
    first = Forwarder(database, slow, clock=clock, max_attempts=5,
                      backoff_base=timedelta(seconds=30))
    first.worker = "slow:1"

    def taken_over() -> None:  # the lease ran out and another forwarder claimed the row
        clock.advance(minutes=2)
        with database.write_session() as session:
            assert claim_due(session, now=clock(), worker="other:2", limit=1,
                             model=DefectReport) == [report_id]

    slow.during = taken_over
    assert first.forward_now(report_id) == "failed"
    with database.session() as session:
        row = session.get(DefectReport, report_id)
        assert row is not None
        assert (row.state, row.claimed_by, row.service_request_id) == (
            "pending", "other:2", None)
