"""The durable forwarding itself: leases between forwarders, concurrent forwarders,
and the retention of defect reports."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from chatbot.defects.client import Open311Client
from chatbot.defects.forwarding import Forwarder
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
