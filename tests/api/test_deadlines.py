"""The citizens' endpoints answer within CHATBOT_REQUEST_TIMEOUT_SECONDS: 503 problem +
Retry-After when their work takes longer, and then nothing is stored; a write already
being committed when the time runs out is acknowledged instead (real app and database;
the slow parts are a held search and a lock another writer holds, on SQLite and
PostgreSQL)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from chatbot.api import create_app
from chatbot.api.routes import appointments as appointment_routes
from chatbot.config import Settings
from chatbot.storage import Database, upgrade_database
from chatbot.storage.models import Appointment, Ticket
from tests.api.test_appointments_api import BODY as BOOKING
from tests.api.test_tickets_api import BODY as TICKET
from tests.conftest import FakeClock, _empty_postgres_tables, _libpq_url

TIMEOUT = 0.5


class HeldSearch:
    """A search that waits inside until the test releases it."""

    index = None

    def __init__(self) -> None:
        self.release = threading.Event()
        self.done = threading.Event()

    def search(self, *args: Any, **kwargs: Any) -> Any:
        try:
            assert self.release.wait(30), "the test never released the search"
            raise RuntimeError("a late search's answer is never sent")
        finally:
            self.done.set()


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite unless a test asks for PostgreSQL (indirect parametrisation)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        path = tmp_path / "deadlines.sqlite3"
        upgrade_database(f"sqlite:///{path}")
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_migrated_url")
    _empty_postgres_tables(url)
    return url


@pytest.fixture
def make_client(tmp_path: Path, database_url: str, clock: FakeClock
                ) -> Iterator[ClientFactory]:
    clients: list[TestClient] = []

    def make(**kwargs: Any) -> TestClient:
        settings = Settings(database_url=database_url, index_poll_seconds=0,
                            index_dir=tmp_path / "indexes", auto_migrate=False,
                            rate_limits_enabled=False, tickets_per_contact_per_hour=0,
                            request_timeout_seconds=TIMEOUT, load_search=False)
        client = TestClient(create_app(settings, clock=clock, **kwargs))
        clients.append(client.__enter__())
        return client

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


def _count(database_url: str, model: type[Any]) -> int:
    database = Database(database_url)
    try:
        with database.session() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        database.dispose()


def _assert_timeout(response: Any, started: float) -> None:
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith(":timeout")
    assert "nothing was stored" in response.json()["detail"]
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["X-Request-ID"]
    assert TIMEOUT <= elapsed < TIMEOUT + 2, elapsed


def test_a_search_past_the_deadline_is_answered_503(make_client: ClientFactory) -> None:
    held = HeldSearch()
    client = make_client(search_service=held)
    started = time.monotonic()
    response = client.post("/api/v1/search", json={"query": "Reisepass"})
    _assert_timeout(response, started)
    held.release.set()
    assert held.done.wait(10)
    # The late answer went nowhere, and the next request is served normally.
    assert client.get("/api/v1/hotline").status_code == 200
    metrics = client.get("/metrics").text
    assert 'chatbot_limit_rejections_total{endpoint="search",reason="timeout"} 1.0' in metrics


@contextmanager
def _another_writer_holds_the_lock(database_url: str) -> Iterator[None]:
    """Another writer that does not let go until the block ends: SQLite's write lock,
    or on PostgreSQL the reference counters (every ticket and booking takes a number)."""
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with psycopg.connect(_libpq_url(database_url)) as connection:
        connection.execute("LOCK TABLE reference_counters IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            connection.rollback()


def _until(condition: Callable[[], bool], seconds: float = 10) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.05)


@pytest.mark.parametrize("database_url", [
    "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
@pytest.mark.parametrize(("path", "body", "model"), [
    ("/api/v1/appointments", BOOKING, Appointment),
    ("/api/v1/tickets", TICKET, Ticket),
])
def test_a_write_that_misses_the_deadline_is_rolled_back_when_it_gets_through(
        make_client: ClientFactory, database_url: str, path: str, body: dict[str, Any],
        model: type[Any]) -> None:
    client = make_client()
    with _another_writer_holds_the_lock(database_url):
        started = time.monotonic()
        _assert_timeout(client.post(path, json=body), started)
    # The late request now gets the lock and runs to its COMMIT, where it is rolled back.
    if database_url.startswith("sqlite"):
        _until(lambda: _write_lock_free(database_url))
        time.sleep(0.2)
        assert _count(database_url, model) == 0
    # Whenever the late request ends, a new one gets the number it had taken back.
    stored = client.post(path, json=body)
    assert stored.status_code == 201, stored.text
    assert stored.json()["reference"].endswith("-000001")
    assert _count(database_url, model) == 1


def _write_lock_free(database_url: str) -> bool:
    probe = sqlite3.connect(make_url(database_url).database or "", isolation_level=None,
                            timeout=0.05)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


def test_a_write_committed_before_the_deadline_is_acknowledged_however_late(
        make_client: ClientFactory, database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = appointment_routes.appointment_created

    def slow_after_the_commit(*args: Any, **kwargs: Any) -> Any:
        time.sleep(TIMEOUT * 3)
        return real(*args, **kwargs)

    monkeypatch.setattr(appointment_routes, "appointment_created", slow_after_the_commit)
    client = make_client()
    started = time.monotonic()
    response = client.post("/api/v1/appointments", json=BOOKING)
    assert response.status_code == 201, response.text
    assert time.monotonic() - started >= TIMEOUT * 3
    assert _count(database_url, Appointment) == 1

