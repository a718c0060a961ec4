"""A database that is down, restarting or locked: 503 with Retry-After on every route
that needs it (never 500), /readyz says so, and the service recovers by itself; every
acknowledged ticket is stored. Real PostgreSQL and SQLite."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from chatbot.api import create_app
from chatbot.config import Settings
from chatbot.storage import Database, engine, upgrade_database
from chatbot.storage.models import Ticket
from tests.api.test_appointments_api import BODY as BOOKING
from tests.api.test_tickets_api import BODY as TICKET
from tests.conftest import FakeClock, _libpq_url, free_port


def _client(url: str, tmp_path: Path, clock: FakeClock) -> TestClient:
    # One test client sends every ticket: the per-client and per-contact limits are
    # not what these tests are about.
    settings = Settings(database_url=url, load_search=False, index_poll_seconds=0,
                        index_dir=tmp_path / "indexes", auto_migrate=False,
                        rate_limits_enabled=False, tickets_per_contact_per_hour=0)
    return TestClient(create_app(settings, clock=clock))


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, (response.request.url, response.text)
    assert int(response.headers["Retry-After"]) > 0
    assert "database" in response.json()["detail"]


def test_every_route_that_needs_the_database_answers_503_while_it_is_down(
        tmp_path: Path, clock: FakeClock) -> None:
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    with _client(closed, tmp_path, clock) as client:
        started = time.monotonic()
        agent = {"Authorization": "Bearer some-agent-token"}
        for response in (
            client.post("/api/v1/tickets", json=TICKET),
            client.get("/api/v1/tickets/KR-2026-000001", headers={"X-Access-Token": "x" * 40}),
            client.post("/api/v1/appointments", json=BOOKING),
            client.get("/api/v1/appointments/slots", params={"service": "bauen"}),
            client.get("/api/v1/appointments/BT-2026-000001",
                       headers={"X-Access-Token": "x" * 40}),
            client.post("/api/v1/chat/feedback", json={"conversation_id": "c1", "turn": 1,
                                                      "helpful": True}),
            client.get("/api/v1/agent/tickets", headers=agent),
            client.get("/api/v1/agent/appointments", headers=agent),
        ):
            _assert_unavailable(response)
        assert time.monotonic() - started < 30  # refused at once, not after long waits
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "database" in ready.json()["reason"]


def test_a_locked_sqlite_database_answers_503_then_recovers(
        tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_SECONDS", 1)
    path = tmp_path / "locked.sqlite3"
    upgrade_database(f"sqlite:///{path}")
    with _client(f"sqlite:///{path}", tmp_path, clock) as client:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer that does not let go
        try:
            _assert_unavailable(client.post("/api/v1/tickets", json=TICKET))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert client.post("/api/v1/tickets", json=TICKET).status_code == 201
    database = Database(f"sqlite:///{path}")
    try:
        with database.session() as session:
            assert len(session.scalars(select(Ticket)).all()) == 1
    finally:
        database.dispose()


@pytest.fixture
def tagged_postgres_url(postgres_migrated_url: str) -> str:
    """The migrated test schema, emptied, with an application_name that lets the test
    find (and terminate) exactly this app's server connections."""
    from tests.conftest import _empty_postgres_tables

    _empty_postgres_tables(postgres_migrated_url)
    name = f"chatbot-faults-{uuid.uuid4().hex[:12]}"
    return make_url(postgres_migrated_url).update_query_dict(
        {"application_name": name}).render_as_string(hide_password=False)


def _terminate_backends(admin_url: str, application_name: str) -> int:
    with psycopg.connect(_libpq_url(admin_url), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s", (application_name,)).fetchall()
    return len(rows)


@pytest.mark.postgres
def test_postgres_connections_killed_mid_traffic_give_503_or_a_stored_ticket(
        tagged_postgres_url: str, postgres_url: str, tmp_path: Path,
        clock: FakeClock) -> None:
    application_name = make_url(tagged_postgres_url).query["application_name"]
    assert isinstance(application_name, str)
    statuses: list[int] = []
    acknowledged: list[str] = []
    stop = threading.Event()
    killed = 0

    def terminate_repeatedly() -> None:
        nonlocal killed
        while not stop.is_set():
            killed += _terminate_backends(postgres_url, application_name)
            time.sleep(0.02)

    with _client(tagged_postgres_url, tmp_path, clock) as client:
        assert client.post("/api/v1/tickets", json=TICKET).status_code == 201
        killer = threading.Thread(target=terminate_repeatedly, daemon=True)
        killer.start()
        try:
            for _ in range(80):
                response = client.post("/api/v1/tickets", json=TICKET)
                statuses.append(response.status_code)
                if response.status_code == 201:
                    acknowledged.append(response.json()["reference"])
                else:
                    _assert_unavailable(response)
        finally:
            stop.set()
            killer.join(timeout=10)
        # Recovery by itself: dead pooled connections are replaced, no restart needed.
        assert client.post("/api/v1/tickets", json=TICKET).status_code == 201
        ready = client.get("/readyz")
        assert "database" not in ready.json()["reason"]  # only the search is disabled

    assert killed > 0
    assert set(statuses) <= {201, 503}
    assert 503 in statuses, "no request met a killed connection: the test proved nothing"
    database = Database(tagged_postgres_url)
    try:
        with database.session() as session:
            stored = set(session.scalars(select(Ticket.reference)))
    finally:
        database.dispose()
    assert set(acknowledged) <= stored
