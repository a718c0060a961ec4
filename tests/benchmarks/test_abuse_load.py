"""The abuse and fault load test (chatbot/benchmarks/abuse_load.py).

The verification logic is tested on hand-made outcomes: each acceptance check must
fail when its evidence is there. One end-to-end run (two real servers, a temporary
PostgreSQL cluster restarted mid-run, Redis, 10 s of traffic) is `postgres` and `slow`.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chatbot.benchmarks.abuse_load import (
    ABUSIVE,
    BIG_TICKET,
    NORMAL,
    Outcome,
    StoredWrites,
    Timeline,
    TrafficConfig,
    format_report,
    percentile,
    verify,
)

TIMELINE = Timeline(duration=60.0, big_ticket_phase=(10.0, 20.0), outage=(30.0, 35.0))


def clean_run() -> tuple[list[Outcome], StoredWrites]:
    """Outcomes of a run where everything held, and the database that goes with it."""
    outcomes = []
    for i in range(40):
        start = i * 1.5   # chats spread over the run, some in the big-ticket phase
        if 29 <= start <= 41:
            continue
        outcomes.append(Outcome(NORMAL, "chat", i % 2, "200", start, start + 0.2))
    outcomes += [
        Outcome(NORMAL, "search", 0, "200", 1.0, 1.1),
        Outcome(NORMAL, "ticket", 0, "201", 2.0, 2.1, "m-t1", "KR-2026-000001"),
        Outcome(NORMAL, "ticket", 1, "503", 31.0, 31.5, "m-t2"),
        Outcome(NORMAL, "booking", 1, "201", 3.0, 3.1, "m-b1", "TA-2026-000001"),
        Outcome(NORMAL, "booking", 0, "409", 3.0, 3.2, "m-b2"),
        Outcome(ABUSIVE, "chat", 0, "200", 1.0, 1.2),
        Outcome(ABUSIVE, "chat", 0, "429", 1.3, 1.31),
        Outcome(ABUSIVE, "chat", 1, "429", 1.4, 1.41),
        Outcome(ABUSIVE, "ticket", 1, "201", 1.5, 1.6, "m-a1", "KR-2026-000002"),
        Outcome(BIG_TICKET, "ticket_800k", 0, "413", 12.0, 12.05, "m-big1"),
        Outcome(BIG_TICKET, "ticket_240k", 1, "422", 13.0, 13.1, "m-big2"),
    ]
    stored = StoredWrites(ticket_markers={"m-t1": "KR-2026-000001", "m-a1": "KR-2026-000002"},
                          booking_markers={"m-b1": "TA-2026-000001"},
                          bookings_per_slot={"standesamt 2026-12-01T10:00:00": 1},
                          slot_capacity=2)
    return outcomes, stored


def report_of(outcomes: list[Outcome], stored: StoredWrites, **kwargs: Any) -> dict[str, Any]:
    return verify(outcomes, TIMELINE, stored, chat_limit_per_minute=30,
                  ticket_limit_per_minute=10, **kwargs)


def test_a_clean_run_passes_every_check() -> None:
    report = report_of(*clean_run())
    assert report["checks"] == dict.fromkeys(report["checks"], True)
    assert report["passed"]
    assert report["counts"]["normal"]["booking"] == {"201": 1, "409": 1}
    assert report["status_503"]["total"] == 1
    text = format_report(report)
    assert "FAIL" not in text
    assert "PASS  no_500" in text


@pytest.mark.parametrize(("change", "failing"), [
    (Outcome(NORMAL, "search", 0, "500", 5.0, 5.1), "no_500"),
    (Outcome(NORMAL, "chat", 0, "503", 50.0, 50.1), "503_only_during_outage"),
    (Outcome(NORMAL, "ticket", 0, "error:RemoteProtocolError", 31.0, 31.1),
     "no_broken_connections"),
    (Outcome(BIG_TICKET, "ticket_800k", 0, "201", 14.0, 14.1, "m-big3", "KR-2026-000009"),
     "big_ticket_refused_fast"),
    (Outcome(BIG_TICKET, "ticket_800k", 0, "413", 14.0, 17.0), "big_ticket_refused_fast"),
    (Outcome(NORMAL, "ticket", 0, "201", 4.0, 4.1, "m-lost", "KR-2026-000010"),
     "acknowledged_tickets_stored"),
    (Outcome(NORMAL, "booking", 0, "201", 4.0, 4.1, "m-lost", "TA-2026-000010"),
     "acknowledged_bookings_stored"),
    (Outcome(NORMAL, "chat", 1, "429", 5.0, 5.01), "normal_clients_never_limited"),
])
def test_each_check_fails_on_its_evidence(change: Outcome, failing: str) -> None:
    outcomes, stored = clean_run()
    report = report_of([*outcomes, change], stored)
    assert [name for name, ok in report["checks"].items() if not ok] == [failing]
    assert not report["passed"]
    assert f"FAIL  {failing}" in format_report(report)


def test_a_503_just_after_the_database_is_back_belongs_to_the_outage() -> None:
    outcomes, stored = clean_run()
    late = Outcome(NORMAL, "chat", 0, "503", 36.0, 37.0)   # within the grace period
    assert report_of([*outcomes, late], stored)["checks"]["503_only_during_outage"]


def test_a_ticket_stored_although_its_client_got_503_is_reported() -> None:
    outcomes, stored = clean_run()
    stored.ticket_markers["m-t2"] = "KR-2026-000003"   # the 503 ticket was committed
    report = report_of(outcomes, stored)
    assert not report["checks"]["nothing_stored_unacknowledged"]
    assert report["writes"]["stored_unacknowledged"] == ["m-t2"]


def test_overbooking_and_a_per_process_budget_are_caught() -> None:
    outcomes, stored = clean_run()
    stored.bookings_per_slot["standesamt 2026-12-01T10:30:00"] = 3
    only_one_process = [o for o in outcomes if not (o.client == ABUSIVE and o.server == 1)]
    # Each process alone let 30 chats through: 60 in one minute is not a shared budget.
    doubled = [Outcome(ABUSIVE, "chat", i % 2, "200", 2.0 + i / 100, 2.1 + i / 100)
               for i in range(60)]
    report = report_of([*outcomes, *doubled], stored)
    failing = {name for name, ok in report["checks"].items() if not ok}
    assert failing == {"no_double_booking", "abusive_within_shared_budget"}
    assert report["writes"]["overbooked_slots"] == {"standesamt 2026-12-01T10:30:00": 3}

    report = report_of(only_one_process, StoredWrites(**{**stored.__dict__,
                                                         "bookings_per_slot": {}}))
    assert not report["checks"]["abusive_429_from_both_processes"]


def test_chat_slowed_down_while_big_tickets_are_in_flight_fails() -> None:
    outcomes, stored = clean_run()
    slowed = [replace(o, ended=o.started + 3.0) if o.client == NORMAL and o.kind == "chat"
              and 10.0 <= o.started <= 20.0 else o for o in outcomes]
    report = report_of(slowed, stored)
    assert not report["checks"]["chat_p95_unaffected_by_big_ticket"]
    latency = report["normal_chat_latency"]
    assert latency["big_ticket_in_flight"]["p95_ms"] == 3000.0
    assert latency["without_big_ticket"]["p95_ms"] == 200.0


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.95) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(n) for n in range(1, 101)], 0.95) == 95.0


@pytest.mark.postgres
@pytest.mark.slow
def test_ten_seconds_of_abuse_and_a_restart_on_two_replicas(corpus_index_dir: Path) -> None:
    import redis

    from chatbot.benchmarks.abuse_load import run

    if shutil.which("initdb") is None and not Path("/usr/lib/postgresql/15/bin/initdb").exists():
        pytest.skip("initdb not installed")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable: {exc}")

    config = TrafficConfig(seconds=10, chat_workers=1, abusive_workers=1, outage_seconds=2)
    report = run(corpus_index_dir, config, redis_url="redis://127.0.0.1:6379/15")
    checks = dict(report["checks"])
    # Ten seconds give a handful of chats per phase: too few for a p95 to mean anything.
    checks.pop("chat_p95_unaffected_by_big_ticket")
    assert checks == dict.fromkeys(checks, True), format_report(report)
    assert report["timeline"]["outage_s"] is not None
    assert report["writes"]["tickets_acknowledged"] > 0
