"""One exception handler: every error is an RFC 9457 problem document with the same
status for the same domain error, wherever it is raised."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from chatbot import errors
from chatbot.api.problems import DATABASE_UNAVAILABLE_DETAIL
from chatbot.config import Settings
from chatbot.language import LanguageDetector
from chatbot.retrieval.service import SearchService
from tests.conftest import FakeEmbedder

PROBLEM = "application/problem+json"

# The contract: each domain error has one status, on every route.
STATUS_OF: list[tuple[errors.ChatbotError, int]] = [
    (errors.InvalidInputError("service", "unknown service 'x'"), 422),
    (errors.InvalidQueryError("query must not be empty"), 422),
    (errors.NotFoundError("no ticket"), 404),
    (errors.AuthenticationError("no token"), 401),
    (errors.PermissionDeniedError("agents only"), 403),
    (errors.ConflictError("closed"), 409),
    (errors.SlotTakenError("fully booked"), 409),
    (errors.InvalidTransitionError("open -> open"), 409),
    (errors.DatabaseUnavailableError("database unreachable"), 503),
    (errors.IndexNotFoundError("no index yet"), 503),
    (errors.IndexIncompatibleError("other model"), 503),
    (errors.ModelNotAvailableError("not prepared"), 503),
    (errors.CorpusError("no corpus"), 503),
    (errors.ConfigurationError("bad setting"), 503),
]


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"]
    assert body["title"]
    assert "detail" in body
    return body


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """The real app (no model) plus one route that raises whatever a test hands it."""
    from chatbot.api import create_app

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", load_search=False,
                        index_poll_seconds=0, index_dir=tmp_path / "indexes")
    app = create_app(settings)
    app.state.to_raise = None

    @app.post("/raise")
    def raise_it() -> None:
        raise app.state.to_raise

    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(("error", "status"), STATUS_OF,
                         ids=[type(e).__name__ for e, _ in STATUS_OF])
def test_each_domain_error_has_its_status(app: FastAPI, client: TestClient,
                                          error: errors.ChatbotError, status: int) -> None:
    app.state.to_raise = error
    body = assert_problem(client.post("/raise"), status)
    if isinstance(error, errors.InvalidInputError):
        assert body["detail"] == [{"type": "value_error", "loc": ["body", "service"],
                                   "msg": str(error)}]
    elif isinstance(error, errors.DatabaseUnavailableError):
        # The driver's message (host, reason) is logged, never sent to the client.
        assert body["detail"] == DATABASE_UNAVAILABLE_DETAIL
    else:
        assert body["detail"] == str(error)


def test_authentication_asks_for_a_bearer_token(app: FastAPI, client: TestClient) -> None:
    app.state.to_raise = errors.AuthenticationError("no token")
    assert client.post("/raise").headers["www-authenticate"] == "Bearer"


def test_an_unreachable_database_says_when_to_retry(app: FastAPI, client: TestClient) -> None:
    app.state.to_raise = errors.DatabaseUnavailableError("database unreachable")
    response = client.post("/raise")
    assert int(response.headers["retry-after"]) > 0


def test_an_unexpected_error_is_500_without_internals_and_is_logged_and_counted(
        app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    app.state.to_raise = RuntimeError("password=hunter2 in /srv/secret.py")
    with caplog.at_level(logging.ERROR, logger="chatbot.api.problems"):
        response = client.post("/raise")
    body = assert_problem(response, 500)
    assert "hunter2" not in response.text
    assert "secret" not in response.text
    assert "RuntimeError" not in response.text
    assert body["detail"]
    assert any(r.exc_info and "hunter2" in str(r.exc_info[1]) for r in caplog.records)
    metrics = client.get("/metrics").text
    assert 'route="/raise",status="500"' in metrics


def test_an_unknown_path_and_a_wrong_method_are_problems_too(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert_problem(client.get("/api/v1/tickets"), 405)


def test_schema_errors_keep_fastapis_list_and_never_echo_the_input(client: TestClient) -> None:
    response = client.post("/api/v1/tickets", json={
        "message": "Ich heiße Erika", "contact": {"email": "erika.secret@example.org",
                                                  "phone": "not a phone"},
        "consent": True})
    body = assert_problem(response, 422)
    assert body["detail"][0]["loc"] == ["body", "contact", "phone"]
    assert body["detail"][0]["msg"]
    assert "erika.secret" not in response.text
    assert "not a phone" not in response.text


def test_a_domain_rule_failure_names_the_query_parameter(client: TestClient) -> None:
    response = client.get("/api/v1/appointments/slots", params={"service": "finanzamt"})
    body = assert_problem(response, 422)
    assert body["detail"][0]["loc"] == ["query", "service"]


@pytest.fixture
def agent_token(app: FastAPI) -> Callable[[str], str]:
    from chatbot.escalation.users import add_user
    from tests.conftest import FIXED_NOW

    def make(role: str) -> str:
        with app.state.db.write_session() as session:
            return add_user(session, name=f"u.{role}", role=role, now=FIXED_NOW)[1]

    return make


def test_credentials_errors_from_the_dependencies(client: TestClient,
                                                  agent_token: Callable[[str], str]) -> None:
    missing = client.get("/api/v1/agent/tickets")
    assert_problem(missing, 401)
    assert missing.headers["www-authenticate"] == "Bearer"
    editor = agent_token("editor")
    assert_problem(client.get("/api/v1/agent/tickets",
                              headers={"Authorization": f"Bearer {editor}"}), 403)


@pytest.fixture
def no_index_client(tmp_path: Path) -> Iterator[TestClient]:
    """A loaded search service whose index directory holds no version yet."""
    from chatbot.api import create_app

    service = SearchService(embedder=FakeEmbedder(), detector=LanguageDetector(),
                            index_root=tmp_path / "empty-index")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                        index_poll_seconds=0, index_dir=tmp_path / "empty-index")
    with TestClient(create_app(settings, search_service=service)) as client:
        yield client


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/search", {"query": "Reisepass beantragen"}),
    ("/api/v1/chat", {"message": "Reisepass beantragen"}),
])
def test_no_index_is_503_on_every_route(no_index_client: TestClient, path: str,
                                        body: dict[str, Any]) -> None:
    problem = assert_problem(no_index_client.post(path, json=body), 503)
    assert "chatbot ingest" in problem["detail"]
