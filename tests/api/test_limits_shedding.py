"""Load shedding and health under saturation, over real HTTP (uvicorn), with the real
model and index. The search service is held at its door by the test, so that "the
model is busy" is a state the test controls rather than a race it hopes to win."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatbot.api import create_app
from chatbot.config import Settings
from tests.conftest import serve_in_thread

pytestmark = pytest.mark.slow

TICKET = {"message": "Bitte rufen Sie mich zurück.", "consent": True,
          "contact": {"email": "erika@example.org"}}


class HeldSearch:
    """The real search service; each search waits inside until `release` is set."""

    def __init__(self, service: Any) -> None:
        self._service = service
        self.release = threading.Event()
        self._inside = 0
        self._lock = threading.Lock()

    def search(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self._inside += 1
        assert self.release.wait(60), "the test never released the held searches"
        return self._service.search(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)

    def wait_until_inside(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while self._inside < count:
            assert time.monotonic() < deadline, f"only {self._inside} of {count} got in"
            time.sleep(0.02)


@pytest.fixture
def held(search_service: Any) -> Iterator[HeldSearch]:
    held = HeldSearch(search_service)
    yield held
    held.release.set()


@pytest.fixture
def settings(corpus_index_dir: Path, tmp_path: Path) -> dict[str, Any]:
    return {"index_dir": corpus_index_dir, "index_poll_seconds": 0,
            "database_url": f"sqlite:///{tmp_path / 'shed.sqlite3'}"}


def _search(base: str, timeout: float = 60) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/search", json={"query": "Reisepass beantragen"},
                      timeout=timeout)


def test_a_saturated_model_sheds_at_once_with_503(held: HeldSearch,
                                                  settings: dict[str, Any]) -> None:
    app = create_app(Settings(**settings, model_max_active=2, model_max_waiting=1,
                              overload_retry_after_seconds=7), search_service=held)
    with serve_in_thread(app) as base, ThreadPoolExecutor(8) as pool:
        admitted: list[Future[httpx.Response]] = [pool.submit(_search, base)
                                                  for _ in range(3)]
        held.wait_until_inside(2)
        time.sleep(0.3)  # the third is now waiting in line

        started = time.monotonic()
        try:
            shed = _search(base, timeout=5)
            chat = httpx.post(f"{base}/api/v1/chat", json={"message": "Reisepass"}, timeout=5)
        except httpx.TimeoutException:
            pytest.fail("the request queued behind the busy model instead of getting 503")
        assert time.monotonic() - started < 3
        for response in (shed, chat):
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "7"
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"] == "urn:citizen-chatbot:problem:overloaded"
        # Work that does not need the model is not shed.
        assert httpx.post(f"{base}/api/v1/tickets", json=TICKET, timeout=5).status_code == 201

        held.release.set()
        assert [f.result().status_code for f in admitted] == [200, 200, 200]
        assert _search(base).status_code == 200


def test_a_request_waiting_too_long_is_shed(held: HeldSearch,
                                            settings: dict[str, Any]) -> None:
    app = create_app(Settings(**settings, model_max_active=1, model_max_waiting=5,
                              model_queue_timeout_seconds=0.5), search_service=held)
    with serve_in_thread(app) as base, ThreadPoolExecutor(2) as pool:
        first = pool.submit(_search, base)
        held.wait_until_inside(1)
        started = time.monotonic()
        try:
            waited = _search(base, timeout=5)
        except httpx.TimeoutException:
            pytest.fail("the waiting request was never shed")
        assert waited.status_code == 503
        assert 0.4 < time.monotonic() - started < 3
        held.release.set()
        assert first.result().status_code == 200


def test_health_answers_while_every_worker_thread_is_busy(held: HeldSearch,
                                                          settings: dict[str, Any]) -> None:
    # 40 is the thread pool's size: every thread is then inside a held search.
    app = create_app(Settings(**settings, model_max_active=40, model_max_waiting=0),
                     search_service=held)
    with serve_in_thread(app) as base, ThreadPoolExecutor(40) as pool:
        busy = [pool.submit(_search, base) for _ in range(40)]
        held.wait_until_inside(40)
        for path in ("/healthz", "/readyz"):
            started = time.monotonic()
            try:
                response = httpx.get(f"{base}{path}", timeout=3)
            except httpx.TimeoutException:
                pytest.fail(f"{path} waited behind the busy thread pool")
            assert response.status_code == 200, response.text
            assert time.monotonic() - started < 1
        held.release.set()
        assert {f.result().status_code for f in busy} == {200}


def test_a_conversation_over_the_turn_limit_asks_to_start_over(
        search_service: Any, settings: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    app = create_app(Settings(**settings, max_conversation_turns=2),
                     search_service=search_service)
    with TestClient(app) as client:
        first = client.post("/api/v1/chat", json={"message": "Wie beantrage ich einen "
                                                             "Reisepass?"})
        assert first.status_code == 200, first.text
        conversation = {"conversation_id": first.json()["conversation_id"]}
        second = client.post("/api/v1/chat", json={"message": "Was kostet das?",
                                                   **conversation})
        assert second.status_code == 200
        third = client.post("/api/v1/chat", json={"message": "Und wie lange dauert es?",
                                                  **conversation})
        assert third.status_code == 409
        assert third.json()["type"] == "urn:citizen-chatbot:problem:conversation-too-long"
        fresh = client.post("/api/v1/chat", json={"message": "Und wie lange dauert es?"})
        assert fresh.status_code == 200
        assert fresh.json()["conversation_id"] != conversation["conversation_id"]
