"""An exception that escapes every handler: the 500 Starlette's outermost error
middleware sends carries a request id, the security headers and a problem document
without internals, is logged once and counted once (real app, a route that raises)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from chatbot.api import create_app
from chatbot.config import Settings
from tests.api.test_problems import assert_problem

SECRET = "password=hunter2 in /srv/secret.py"


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", load_search=False,
                        index_poll_seconds=0, index_dir=tmp_path / "indexes")
    app = create_app(settings)

    @app.get("/api/v1/raise")
    def raise_it() -> None:
        raise RuntimeError(SECRET)

    @app.get("/api/v1/stream-breaks")
    def stream_breaks() -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            yield b"first part"
            raise RuntimeError(SECRET)
        return StreamingResponse(chunks(), media_type="text/plain")

    return app


def _assert_like_every_other_answer(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert len(headers["X-Request-ID"]) >= 8
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "hunter2" not in response.text  # type: ignore[attr-defined]
    assert "RuntimeError" not in response.text  # type: ignore[attr-defined]


def test_an_escaping_exception_gets_a_complete_500(app: FastAPI,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    # raise_server_exceptions stays on: the exception must not reach the server either
    # (it would log a second, bare traceback and drop the keep-alive connection).
    with TestClient(app) as client, caplog.at_level(logging.INFO):
        response = client.get("/api/v1/raise", headers={"X-Request-ID": "outer-500-0001"})
        metrics = client.get("/metrics").text
    assert_problem(response, 500)
    _assert_like_every_other_answer(response)
    assert response.headers["X-Request-ID"] == "outer-500-0001"
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1
    assert "hunter2" in str(tracebacks[0].exc_info[1])  # type: ignore[index]
    access = [r for r in caplog.records if r.name == "chatbot.access"
              and "/api/v1/raise" in r.getMessage()]
    assert len(access) == 1
    assert " 500 " in access[0].getMessage()
    assert 'chatbot_http_requests_total{method="GET",route="/api/v1/raise",status="500"} 1.0' \
        in metrics


def test_a_failing_error_handler_still_gets_a_problem_document(
        app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    async def broken_handler(request: Request, exc: Exception) -> None:
        raise ValueError("the handler itself fails")

    app.add_exception_handler(Exception, broken_handler)  # type: ignore[arg-type]
    with TestClient(app) as client, caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/raise")
    body = assert_problem(response, 500)
    assert body["detail"] == "An unexpected error occurred; it has been logged."
    _assert_like_every_other_answer(response)
    assert any(r.exc_info for r in caplog.records)


def test_a_response_broken_off_half_way_is_not_passed_off_as_complete(
        app: FastAPI) -> None:
    # Only a dropped connection tells the client that the body is incomplete.
    with TestClient(app) as client, pytest.raises(RuntimeError, match="hunter2"):
        client.get("/api/v1/stream-breaks")
