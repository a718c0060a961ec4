"""Abuse limits over HTTP: per-client rate limits (in-process and Redis), body size,
conversation length, per-contact caps. Chat and search load shedding is in
test_limits_shedding.py (it needs the model)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chatbot.api import create_app
from chatbot.api.limits import InProcessLimiter
from chatbot.config import RateWindow, Settings
from chatbot.escalation.conversations import record_message
from chatbot.storage import Database
from chatbot.storage.models import Appointment, Ticket
from tests.conftest import FakeClock, serve_in_thread

REDIS_URL = "redis://127.0.0.1:6379/0"
TICKET: dict[str, Any] = {"message": "Bitte rufen Sie mich zurück.", "consent": True,
                          "contact": {"email": "erika@example.org"}}
SLOT = "2026-10-08T09:00:00+02:00"  # Thursday, the building office's one-counter slot
BOOKING: dict[str, Any] = {"service": "bauen", "name": "Erika Mustermann", "consent": True,
                           "contact": {"phone": "0221 123456"}}

ClientFactory = Callable[..., Any]


def _count(database: Database, model: Any) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _ticket(n: int) -> dict[str, Any]:
    return {**TICKET, "contact": {"email": f"person{n}@example.org"}}


def _assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"urn:citizen-chatbot:problem:{slug}"
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    return problem


@pytest.fixture
def make_client(db_url: str, tmp_path: Path, clock: FakeClock
                ) -> Iterator[Callable[..., Any]]:
    """`make_client(peer=..., **settings)`: a TestClient of a fresh app on `db_url`."""
    stack: list[Any] = []

    def make(peer: str = "198.51.100.20", **overrides: Any) -> TestClient:
        settings = Settings(**{"database_url": db_url, "load_search": False,
                               "index_poll_seconds": 0, "index_dir": tmp_path / "indexes",
                               **overrides})
        client = TestClient(create_app(settings, clock=clock), client=(peer, 40000))
        stack.append(client.__enter__())
        return client

    yield make
    for client in reversed(stack):
        client.__exit__(None, None, None)


# --- rate limits -------------------------------------------------------------------------


def test_tickets_beyond_the_limit_get_429_and_are_not_stored(
        make_client: ClientFactory, database: Database) -> None:
    client = make_client(rate_limit_tickets="3/minute")
    assert [client.post("/api/v1/tickets", json=_ticket(n)).status_code
            for n in range(3)] == [201, 201, 201]
    refused = client.post("/api/v1/tickets", json=_ticket(3))
    problem = _assert_problem(refused, 429, "rate-limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "tickets" in problem["detail"]
    assert _count(database, Ticket) == 3
    # Another address has its own budget.
    other = make_client(peer="198.51.100.21", rate_limit_tickets="3/minute")
    assert other.post("/api/v1/tickets", json=_ticket(4)).status_code == 201


def test_bookings_and_status_lookups_are_limited(make_client: ClientFactory,
                                                 database: Database) -> None:
    client = make_client(rate_limit_bookings="1/hour", rate_limit_status="2/minute")
    booked = client.post("/api/v1/appointments", json={**BOOKING, "start": SLOT})
    assert booked.status_code == 201
    second = client.post("/api/v1/appointments",
                         json={**BOOKING, "start": "2026-10-08T10:00:00+02:00"})
    _assert_problem(second, 429, "rate-limited")
    assert int(second.headers["retry-after"]) > 3000  # about an hour
    assert _count(database, Appointment) == 1

    # Guessing tokens: wrong ones count against the same budget as right ones.
    url = f"/api/v1/appointments/{booked.json()['reference']}"
    assert client.get(url, headers={"X-Access-Token": "guess-1"}).status_code == 404
    assert client.get(url + "/ics", params={"token": "guess-2"}).status_code == 404
    blocked = client.get(url, headers={"X-Access-Token": booked.json()["cancel_token"]})
    _assert_problem(blocked, 429, "rate-limited")
    assert client.get("/api/v1/tickets/KR-2026-000001",
                      headers={"X-Access-Token": "guess-3"}).status_code == 429
    # Listing free slots is not a look-up by reference: not limited.
    assert client.get("/api/v1/appointments/slots",
                      params={"service": "bauen"}).status_code == 200


def test_chat_and_search_are_limited_per_client(make_client: ClientFactory) -> None:
    # No model here: under the limit the request reaches the app (503, search disabled).
    client = make_client(rate_limit_chat="2/minute", rate_limit_search="1/minute")
    chat = [client.post("/api/v1/chat", json={"message": "Hallo"}).status_code
            for _ in range(3)]
    assert chat == [503, 503, 429]
    search = [client.post("/api/v1/search", json={"query": "Pass"}).status_code
              for _ in range(2)]
    assert search == [503, 429]


def test_limits_can_be_switched_off(make_client: ClientFactory) -> None:
    limits = {"rate_limit_tickets": "1/hour", "tickets_per_contact_per_hour": 0}
    limited = make_client(**limits)
    unlimited = make_client(peer="198.51.100.30", rate_limits_enabled=False, **limits)
    assert [limited.post("/api/v1/tickets", json=TICKET).status_code
            for _ in range(3)] == [201, 429, 429]
    assert [unlimited.post("/api/v1/tickets", json=TICKET).status_code
            for _ in range(3)] == [201, 201, 201]


def test_forwarded_for_counts_only_from_a_trusted_proxy(make_client: ClientFactory) -> None:
    proxied = make_client(peer="10.0.0.5", trusted_proxies="10.0.0.0/8",
                          rate_limit_tickets="1/minute")
    first = {"X-Forwarded-For": "203.0.113.9"}
    assert proxied.post("/api/v1/tickets", json=_ticket(1), headers=first).status_code == 201
    assert proxied.post("/api/v1/tickets", json=_ticket(2), headers=first).status_code == 429
    # The proxy appends the address it saw; what the client claimed to its left is ignored.
    spoofed = {"X-Forwarded-For": "192.0.2.1, 203.0.113.9"}
    assert proxied.post("/api/v1/tickets", json=_ticket(3), headers=spoofed).status_code == 429
    second = {"X-Forwarded-For": "203.0.113.10"}
    assert proxied.post("/api/v1/tickets", json=_ticket(4), headers=second).status_code == 201

    # A client talking to the service directly cannot pick a new identity per request.
    direct = make_client(peer="203.0.113.50", trusted_proxies="10.0.0.0/8",
                         rate_limit_tickets="1/minute")
    codes = [direct.post("/api/v1/tickets", json=_ticket(10 + n),
                         headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code
             for n in range(2)]
    assert codes == [201, 429]


def test_one_ipv6_network_shares_a_budget(make_client: ClientFactory) -> None:
    proxied = make_client(peer="10.0.0.5", trusted_proxies="10.0.0.5",
                          rate_limit_tickets="1/minute")

    def from_address(address: str, n: int) -> int:
        return int(proxied.post("/api/v1/tickets", json=_ticket(n),
                                headers={"X-Forwarded-For": address}).status_code)

    assert from_address("2001:db8:1:2::10", 1) == 201
    # A household or phone owns a whole /64: a new address in it is the same client.
    assert from_address("2001:db8:1:2::99", 2) == 429
    assert from_address("2001:db8:1:3::10", 3) == 201


def test_sliding_window_not_fixed_window() -> None:
    now = [1000.0]
    limiter = InProcessLimiter(clock=lambda: now[0])
    windows = (RateWindow(limit=2, seconds=10),)
    assert limiter.hit_now("k", windows) == 0
    now[0] = 1009.0
    assert limiter.hit_now("k", windows) == 0
    now[0] = 1009.5
    # A fixed window starting at 1000 would reset at 1010; a sliding one waits until
    # the first request is 10 s old.
    assert limiter.hit_now("k", windows) == pytest.approx(0.5)
    now[0] = 1010.5
    assert limiter.hit_now("k", windows) == 0
    now[0] = 1012.0
    assert limiter.hit_now("k", windows) == pytest.approx(7.0)


def test_in_process_memory_stays_bounded_under_address_rotation() -> None:
    now = [0.0]
    limiter = InProcessLimiter(clock=lambda: now[0])
    limiter.MAX_CLIENTS = 1000
    windows = (RateWindow(limit=1, seconds=3600),)
    for n in range(5000):
        now[0] += 0.001
        assert limiter.hit_now(f"client-{n}", windows) == 0
    assert len(limiter._times) <= 1000
    # The most recent clients are still counted.
    assert limiter.hit_now("client-4999", windows) > 0


def test_the_client_address_is_never_logged(make_client: ClientFactory,
                                            caplog: pytest.LogCaptureFixture) -> None:
    client = make_client(peer="198.51.100.77", rate_limit_tickets="1/minute")
    with caplog.at_level(logging.DEBUG):
        client.post("/api/v1/tickets", json=_ticket(1))
        assert client.post("/api/v1/tickets", json=_ticket(2)).status_code == 429
    assert any("rate limit" in record.getMessage() for record in caplog.records)
    assert not [r for r in caplog.records if "198.51.100.77" in r.getMessage()]


# --- Redis: one budget across replicas ----------------------------------------------------


def _fresh_prefix() -> str:
    return f"chatbot-test-{secrets.token_hex(6)}"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"no Redis at {REDIS_URL}: {exc}")
    prefix = _fresh_prefix()
    yield prefix
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_two_replicas_on_redis_share_one_clients_budget(make_client: ClientFactory,
                                                        database: Database,
                                                        redis_prefix: str) -> None:
    shared = {"redis_url": REDIS_URL, "redis_key_prefix": redis_prefix,
              "rate_limit_tickets": "3/minute"}
    replica_a = make_client(**shared)
    replica_b = make_client(**shared)
    codes = [(replica_a if n % 2 else replica_b).post("/api/v1/tickets", json=_ticket(n))
             .status_code for n in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    assert _count(database, Ticket) == 3
    refused = replica_a.post("/api/v1/tickets", json=_ticket(9))
    _assert_problem(refused, 429, "rate-limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # Another client is still served by both.
    other = make_client(peer="198.51.100.99", **shared)
    assert other.post("/api/v1/tickets", json=_ticket(10)).status_code == 201

    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = [key.decode() for key in client.scan_iter(f"{redis_prefix}:*")]
        # The salt was generated once and shared; no raw address in any key.
        assert f"{redis_prefix}:limits:salt" in keys
        assert not [key for key in keys if "198.51.100" in key or "testclient" in key]
    finally:
        client.close()


def test_without_redis_each_process_counts_alone(make_client: ClientFactory) -> None:
    replica_a = make_client(rate_limit_tickets="1/minute")
    replica_b = make_client(rate_limit_tickets="1/minute")
    assert replica_a.post("/api/v1/tickets", json=_ticket(1)).status_code == 201
    assert replica_a.post("/api/v1/tickets", json=_ticket(2)).status_code == 429
    assert replica_b.post("/api/v1/tickets", json=_ticket(3)).status_code == 201


def test_an_unreachable_redis_falls_back_to_counting_in_process(
        make_client: ClientFactory) -> None:
    client = make_client(redis_url="redis://127.0.0.1:1/0", rate_limit_tickets="1/minute")
    assert client.post("/api/v1/tickets", json=_ticket(1)).status_code == 201
    assert client.post("/api/v1/tickets", json=_ticket(2)).status_code == 429


# --- body size ----------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_before_parsing(make_client: ClientFactory,
                                                     database: Database) -> None:
    client = make_client(max_body_bytes=4096)
    big = {**TICKET, "message": "x" * 5000}
    refused = client.post("/api/v1/tickets", json=big)
    problem = _assert_problem(refused, 413, "body-too-large")
    assert "4096" in problem["detail"]
    # Under the limit the schema answers as before.
    assert client.post("/api/v1/tickets", json={**TICKET, "message": "x" * 3000}
                       ).status_code == 201
    assert _count(database, Ticket) == 1


def test_a_streamed_body_is_cut_off_at_the_limit(db_url: str, tmp_path: Path,
                                                 clock: FakeClock, database: Database
                                                 ) -> None:
    settings = Settings(database_url=db_url, load_search=False, index_poll_seconds=0,
                        index_dir=tmp_path / "indexes", max_body_bytes=64 * 1024)
    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(256):  # no Content-Length: chunked transfer encoding
            yield b"y" * 1024
        yield b'", "consent": true, "contact": {"email": "erika@example.org"}}'

    with serve_in_thread(create_app(settings, clock=clock)) as base:
        try:
            response = httpx.post(f"{base}/api/v1/tickets", content=chunks(),
                                  headers={"Content-Type": "application/json"}, timeout=30)
        except httpx.HTTPError:
            pytest.fail("the server reset the connection instead of answering 413")
        _assert_problem(response, 413, "body-too-large")
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    assert _count(database, Ticket) == 0


def test_declared_content_length_over_the_limit_is_refused_unread(
        make_client: ClientFactory) -> None:
    client = make_client(max_body_bytes=2048)
    response = client.post("/api/v1/chat", content=b"{}",
                           headers={"Content-Type": "application/json",
                                    "Content-Length": str(50 * 1024 * 1024)})
    _assert_problem(response, 413, "body-too-large")


# --- transcript, conversation length, per-contact caps ------------------------------------


def test_a_transcript_over_the_total_limit_is_422_and_stores_nothing(
        make_client: ClientFactory, database: Database) -> None:
    client = make_client(max_transcript_chars=2000)
    lines = [{"role": "citizen", "text": "a" * 900}, {"role": "assistant", "text": "b" * 900},
             {"role": "citizen", "text": "c" * 900}]
    refused = client.post("/api/v1/tickets", json={**TICKET, "transcript": lines})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "transcript"]
    assert "2700" in refused.json()["detail"][0]["msg"]
    assert client.post("/api/v1/tickets", json={**TICKET, "transcript": lines[:2]}
                       ).status_code == 201
    assert _count(database, Ticket) == 1


def test_a_conversation_over_the_turn_limit_is_409(make_client: ClientFactory,
                                                   database: Database,
                                                   clock: FakeClock) -> None:
    client = make_client(max_conversation_turns=3)
    with database.write_session() as session:
        for turn in range(3):
            for role in ("citizen", "assistant"):
                record_message(session, conversation_id="long-conversation", role=role,
                               text=f"{role} {turn}", language="de", now=clock())
        record_message(session, conversation_id="short-conversation", role="citizen",
                       text="Hallo", language="de", now=clock())
    refused = client.post("/api/v1/chat", json={"message": "Noch eine Frage",
                                                "conversation_id": "long-conversation"})
    problem = _assert_problem(refused, 409, "conversation-too-long")
    assert "new conversation" in problem["detail"]
    assert "retry-after" not in refused.headers
    # Shorter conversations and new ones go through (here: to the app's 503, no model).
    for body in ({"message": "Frage", "conversation_id": "short-conversation"},
                 {"message": "Frage"}):
        assert client.post("/api/v1/chat", json=body).status_code == 503


def test_tickets_per_contact_per_hour(make_client: ClientFactory, database: Database,
                                      clock: FakeClock) -> None:
    client = make_client(tickets_per_contact_per_hour=2, rate_limits_enabled=False)

    def ticket(email: str) -> dict[str, Any]:
        return {**TICKET, "contact": {"email": email, "phone": "0221 555"}}

    key = {"Idempotency-Key": "first-ticket-7c1d"}
    assert client.post("/api/v1/tickets", json=ticket("a@example.org"),
                       headers=key).status_code == 201
    assert client.post("/api/v1/tickets", json=ticket("b@example.org")).status_code == 201
    # The same phone number with a third e-mail address: the cap of two is reached.
    refused = client.post("/api/v1/tickets", json=ticket("c@example.org"))
    assert "hotline" in _assert_problem(refused, 409, "contact-limit")["detail"]
    # A retry of an earlier request is answered, not counted; other people are served.
    assert client.post("/api/v1/tickets", json=ticket("a@example.org"),
                       headers=key).status_code == 200
    assert client.post("/api/v1/tickets", json=_ticket(7)).status_code == 201
    clock.advance(minutes=61)
    assert client.post("/api/v1/tickets", json=ticket("c@example.org")).status_code == 201
    assert _count(database, Ticket) == 4


def test_open_appointments_per_contact(make_client: ClientFactory, database: Database,
                                       clock: FakeClock) -> None:
    client = make_client(max_open_appointments_per_contact=1)
    first = client.post("/api/v1/appointments", json={**BOOKING, "start": SLOT})
    assert first.status_code == 201
    later = {**BOOKING, "start": "2026-10-08T10:00:00+02:00"}
    refused = client.post("/api/v1/appointments", json=later)
    assert "open appointment" in _assert_problem(refused, 409, "contact-limit")["detail"]
    assert _count(database, Appointment) == 1
    # Cancelling one frees the place for another booking.
    assert client.delete(f"/api/v1/appointments/{first.json()['reference']}",
                         headers={"X-Access-Token": first.json()["cancel_token"]}
                         ).status_code == 200
    assert client.post("/api/v1/appointments", json=later).status_code == 201
    # Once the appointment has taken place, it no longer counts.
    clock.now = datetime(2026, 10, 8, 9, 0, tzinfo=UTC)
    free = client.get("/api/v1/appointments/slots", params={"service": "bauen"}).json()
    assert client.post("/api/v1/appointments",
                       json={**BOOKING, "start": free["slots"][0]["start"]}).status_code == 201
