"""Two real `chatbot serve` processes on one PostgreSQL database.

What must hold across replicas is enforced by the database: 40 simultaneous bookings
of a one-counter slot give exactly one booking, and 200 simultaneous tickets get 200
distinct references. Both servers also migrate the fresh schema at the same time.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from chatbot.storage import Database
from chatbot.storage.models import Appointment, Ticket
from tests.conftest import fresh_postgres_schema

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# One counter, open around the clock, so a free future slot exists whatever today is.
CALENDARS = """
departments: [allgemein, standesamt]
services:
  standesamt:
    title: {de: Standesamt}
    slot_minutes: 30
    counters: 1
    booking_horizon_days: 30
    hours:
""" + "".join(f"      {day}: [\"00:00-23:30\"]\n"
              for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))

STARTUP_SECONDS = 90


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_healthy(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server on port {port} exited with {process.returncode}:\n"
                        f"{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server on port {port} not healthy after {STARTUP_SECONDS} s:\n"
                f"{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture
def two_servers(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """(database URL, [base URL of server A, of server B]), stopped afterwards."""
    calendars = tmp_path / "calendars.yaml"
    calendars.write_text(CALENDARS, encoding="utf-8")
    with fresh_postgres_schema(postgres_url, "replicas") as db_url:
        env = {**os.environ, "CHATBOT_DATABASE_URL": db_url, "CHATBOT_LOAD_SEARCH": "false",
               "CHATBOT_INDEX_POLL_SECONDS": "0", "CHATBOT_CALENDARS_FILE": str(calendars),
               "CHATBOT_INDEX_DIR": str(tmp_path / "indexes"),
               # About database concurrency, not abuse limits: 200 tickets from one
               # address and one phone number are the point here.
               "CHATBOT_RATE_LIMITS_ENABLED": "false",
               "CHATBOT_TICKETS_PER_CONTACT_PER_HOUR": "0",
               # Its own calendars: defect reports without Open311 go to one of them.
               "CHATBOT_OPEN311_FALLBACK_DEPARTMENT": "allgemein"}
        processes: list[subprocess.Popen[bytes]] = []
        try:
            ports = [_free_port(), _free_port()]
            logs = [tmp_path / f"server-{port}.log" for port in ports]
            for port, log in zip(ports, logs, strict=True):
                with log.open("wb") as out:
                    processes.append(subprocess.Popen(
                        [sys.executable, "-m", "chatbot.cli", "serve", "--host", "127.0.0.1",
                         "--port", str(port)],
                        env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT))
            for process, port, log in zip(processes, ports, logs, strict=True):
                _wait_until_healthy(process, port, log)
            yield db_url, [f"http://127.0.0.1:{port}" for port in ports]
        finally:
            for process in processes:
                _stop(process)


async def _post_all(requests: list[tuple[str, dict[str, Any], dict[str, str]]]
                    ) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        return list(await asyncio.gather(*(client.post(url, json=body, headers=headers)
                                           for url, body, headers in requests)))


def test_two_replicas_share_capacity_and_references(
        two_servers: tuple[str, list[str]]) -> None:
    db_url, servers = two_servers
    slots = httpx.get(f"{servers[0]}/api/v1/appointments/slots",
                      params={"service": "standesamt", "days": 7}, timeout=30).json()["slots"]
    # Not one about to begin: it must still be in the future when the last request lands.
    soon = datetime.now(UTC) + timedelta(minutes=5)
    slot = next(s["start"] for s in slots if datetime.fromisoformat(s["start"]) > soon)

    bookings = [(f"{servers[i % 2]}/api/v1/appointments",
                 {"service": "standesamt", "start": slot, "name": f"Person {i}",
                  "consent": True, "contact": {"email": f"person{i}@example.org"}}, {})
                for i in range(40)]
    statuses = Counter(r.status_code for r in asyncio.run(_post_all(bookings)))
    assert statuses == {201: 1, 409: 39}

    ticket = {"message": "Bitte um Rückruf", "consent": True,
              "contact": {"phone": "0221 123456"}}
    created = asyncio.run(_post_all([(f"{servers[i % 2]}/api/v1/tickets", ticket, {})
                                     for i in range(200)]))
    assert Counter(r.status_code for r in created) == {201: 200}
    references = [r.json()["reference"] for r in created]
    assert len(set(references)) == 200
    year = references[0].split("-")[1]
    # Rolled-back or conflicting transactions give their number back: no gaps either.
    assert sorted(references) == [f"KR-{year}-{n:06d}" for n in range(1, 201)]

    key = {"Idempotency-Key": "retry-storm-2f4e8a90"}
    retries = asyncio.run(_post_all([(f"{servers[i % 2]}/api/v1/tickets", ticket, key)
                                     for i in range(10)]))
    assert sorted(r.status_code for r in retries) == [200] * 9 + [201]
    assert len({r.json()["reference"] for r in retries}) == 1
    assert len({r.json()["access_token"] for r in retries}) == 1

    database = Database(db_url)
    try:
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Appointment)) == 1
            assert session.scalar(select(func.count()).select_from(Ticket)) == 201
            stored = set(session.scalars(select(Ticket.reference)))
    finally:
        database.dispose()
    assert set(references) <= stored
