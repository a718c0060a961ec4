"""Structured logs: one JSON object per line with a request id, an access line per request
without the client's address or the query string, tracebacks as one field; the same
through a real `chatbot serve` process (uvicorn's own access log is off)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from chatbot.api import create_app
from chatbot.config import Settings
from chatbot.index import IndexStore, build_index
from chatbot.language import LanguageDetector
from chatbot.logging_setup import configure_logging
from chatbot.retrieval.service import SearchService
from tests.api.test_tickets_api import BODY as TICKET
from tests.conftest import FakeClock, FakeEmbedder, free_port

PEER = ("203.0.113.77", 51234)
SECRET_TOKEN = "tok-9f8e7d6c5b4a39281706"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """The server's logging setup writing into a buffer; the loggers are put back after."""
    names = ["", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level,
                    logging.getLogger(name).propagate, logging.getLogger(name).disabled)
             for name in names}
    buffer = io.StringIO()
    configure_logging(stream=buffer)
    yield buffer
    for name, (handlers, level, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
        logger.disabled = disabled


def server_side(buffer: io.StringIO) -> str:
    """The log without the test client's own lines (httpx logs the URLs it requests)."""
    return "".join(line for line in buffer.getvalue().splitlines(keepends=True)
                   if not json.loads(line)["logger"].startswith("httpx"))


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", load_search=False,
                        index_poll_seconds=0, index_dir=tmp_path / "indexes",
                        rate_limits_enabled=False)
    app = create_app(settings, clock=clock)

    @app.post("/raise")
    def raise_it() -> None:
        raise RuntimeError("line one\nline two")

    with TestClient(app, client=PEER, raise_server_exceptions=False) as client:
        yield client


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = text.splitlines()
    assert lines, "nothing was logged"
    return [json.loads(line) for line in lines]  # each line on its own is JSON


def assert_private(text: str) -> None:
    assert PEER[0] not in text
    assert str(PEER[1]) not in text
    assert "token=" not in text
    assert SECRET_TOKEN not in text


def test_access_lines_are_json_with_the_request_id_and_nothing_private(
        client: TestClient, log_output: io.StringIO) -> None:
    created = client.post("/api/v1/tickets", json=TICKET)
    assert created.status_code == 201
    status_url = f"/api/v1/tickets/{created.json()['reference']}"
    # A client that still puts a token in the URL is refused, and the token is not logged.
    looked_up = client.get(status_url, params={"token": SECRET_TOKEN})
    assert looked_up.status_code == 401

    text = server_side(log_output)
    assert_private(text)
    assert created.json()["reference"] not in text  # the route template, not the path
    access = [e for e in json_lines(text) if e["logger"] == "chatbot.access"]
    assert [(e["method"], e["route"], e["status"]) for e in access] == [
        ("POST", "/api/v1/tickets", 201), ("GET", "/api/v1/tickets/{reference}", 401)]
    for entry, response in zip(access, (created, looked_up), strict=True):
        assert entry["request_id"] == response.headers["X-Request-ID"]
        assert entry["duration_ms"] >= 0
        assert {"time", "level", "message"} <= entry.keys()
    assert created.headers["X-Request-ID"] != looked_up.headers["X-Request-ID"]


def test_a_sane_incoming_request_id_is_kept_and_anything_else_replaced(
        client: TestClient, log_output: io.StringIO) -> None:
    kept = client.get("/api/v1/hotline", headers={"X-Request-ID": "3f2a9c1e-proxy-0001"})
    assert kept.headers["X-Request-ID"] == "3f2a9c1e-proxy-0001"
    for hostile in ("erika@example.org", "x" * 65, "short", "a b c d e f g h"):
        replaced = client.get("/api/v1/hotline", headers={"X-Request-ID": hostile})
        assert replaced.headers["X-Request-ID"] != hostile
        assert len(replaced.headers["X-Request-ID"]) == 32
    assert "erika@example.org" not in server_side(log_output)


def test_a_traceback_is_one_field_of_one_line_with_the_request_id(
        client: TestClient, log_output: io.StringIO) -> None:
    response = client.post("/raise", headers={"X-Request-ID": "trace-me-12345"})
    assert response.status_code == 500
    entries = json_lines(server_side(log_output))
    errors = [e for e in entries if e["level"] == "ERROR"]
    assert len(errors) == 1
    assert "Traceback" in errors[0]["exception"]
    assert "line one\nline two" in errors[0]["exception"]
    assert errors[0]["request_id"] == "trace-me-12345"
    access = [e for e in entries if e["logger"] == "chatbot.access"]
    assert [(e["status"], e["request_id"]) for e in access] == [(500, "trace-me-12345")]


def test_an_index_swap_is_logged_as_json(tmp_path: Path, log_output: io.StringIO) -> None:
    corpus = tmp_path / "corpus" / "buergerservice"
    corpus.mkdir(parents=True)
    article = corpus / "reisepass.de.md"
    front = "---\nid: reisepass\nlang: de\ntitle: Reisepass\ndepartment: buergerservice\n"
    article.write_text(front + "updated: 2026-10-01\n---\nPersönlich beantragen.\n",
                       encoding="utf-8")
    embedder = FakeEmbedder()
    store = IndexStore(tmp_path / "index")
    build_index(corpus_dir=tmp_path / "corpus", store=store, embedder=embedder)
    service = SearchService(embedder=embedder, detector=LanguageDetector(),
                            index_root=store.root)
    first = service.index
    assert first is not None
    article.write_text(front + "updated: 2026-10-02\n---\nIm Bürgerbüro beantragen.\n",
                       encoding="utf-8")
    build_index(corpus_dir=tmp_path / "corpus", store=store, embedder=embedder)
    assert service.reload()
    second = service.index
    assert second is not None
    assert second.version != first.version
    swaps = [e for e in json_lines(log_output.getvalue())
             if e["logger"] == "chatbot.retrieval.service"
             and "serving index version" in e["message"]]
    assert swaps
    assert second.version in swaps[-1]["message"]
    assert all(e["level"] == "INFO" for e in swaps)


@pytest.mark.slow
def test_chatbot_serve_logs_json_without_addresses_or_tokens(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CHATBOT_LOAD_SEARCH": "false", "CHATBOT_INDEX_POLL_SECONDS": "0",
           "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
           "CHATBOT_INDEX_DIR": str(tmp_path / "indexes")}
    server = subprocess.Popen(
        [sys.executable, "-m", "chatbot.cli", "serve", "--host", "127.0.0.1",
         "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        response = httpx.get(f"{base}/api/v1/tickets/KR-2026-000001",
                             params={"token": SECRET_TOKEN})
        assert response.status_code == 401
        request_id = response.headers["X-Request-ID"]
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    text = out + err
    entries = json_lines(text)
    assert "127.0.0.1:" not in text.replace(f"http://127.0.0.1:{port}", "")
    assert "token=" not in text
    assert SECRET_TOKEN not in text
    assert any(e["logger"].startswith("uvicorn") for e in entries)  # uvicorn's own, as JSON
    access = [e for e in entries if e["logger"] == "chatbot.access"]
    assert [(e["route"], e["status"], e["request_id"]) for e in access] == [
        ("/api/v1/tickets/{reference}", 401, request_id)]
