"""POST /api/v1/tickets and the citizen's status lookup, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chatbot.config import Settings
from chatbot.storage import Database
from chatbot.storage.models import Ticket

BODY: dict[str, Any] = {
    "message": "Ich habe meinen Reisepass verloren. Was muss ich tun?",
    "topic": "Reisepass verloren",
    "department": "buergerservice",
    "contact": {"email": "erika@example.org", "phone": "+49 221 1234567"},
    "preferred_language": "de",
    "consent": True,
}


def _tickets(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_create_then_look_up_with_the_token(backoffice_client: TestClient) -> None:
    response = backoffice_client.post("/api/v1/tickets", json=BODY)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["reference"] == "KR-2026-000001"
    assert created["status"] == "open"
    assert created["created_at"] == "2026-10-05T08:00:00+02:00"
    assert created["status_url"] == "http://testserver/api/v1/tickets/KR-2026-000001"

    by_header = backoffice_client.get(created["status_url"],
                                      headers={"X-Access-Token": created["access_token"]})
    assert by_header.status_code == 200
    typed_by_hand = backoffice_client.get("/api/v1/tickets/kr-2026-000001",
                                          headers={"X-Access-Token": created["access_token"]})
    assert typed_by_hand.json() == by_header.json()
    # A token in the URL would reach proxies' logs: refused, with the reason.
    by_query = backoffice_client.get(created["status_url"],
                                     params={"token": created["access_token"]})
    assert by_query.status_code == 401
    assert "not accepted" in by_query.json()["detail"]
    status = by_header.json()
    assert status["reference"] == "KR-2026-000001"
    assert status["status"] == "open"
    assert status["history"] == [{"status": "open", "at": "2026-10-05T08:00:00+02:00"}]
    assert status["replies"] == []
    # Contact details and the message are not echoed on the status page.
    assert "erika@example.org" not in by_header.text


def test_nothing_is_shown_without_the_right_token(backoffice_client: TestClient) -> None:
    created = backoffice_client.post("/api/v1/tickets", json=BODY).json()
    url = f"/api/v1/tickets/{created['reference']}"
    missing = backoffice_client.get(url)
    assert missing.status_code == 401
    wrong = backoffice_client.get(url, headers={"X-Access-Token": "A" * 43})
    unknown = backoffice_client.get("/api/v1/tickets/KR-2026-999999",
                                    headers={"X-Access-Token": created["access_token"]})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()  # the same answer: existence is not revealed
    for response in (missing, wrong, unknown):
        assert "Reisepass" not in response.text
        assert "history" not in response.json()


def test_a_retried_request_returns_the_first_ticket(backoffice_client: TestClient,
                                                    database: Database) -> None:
    headers = {"Idempotency-Key": "5f0c6c1e-59b8-4f47-a3a3-1d1d3f0b9a11"}
    first = backoffice_client.post("/api/v1/tickets", json=BODY, headers=headers)
    retry = backoffice_client.post("/api/v1/tickets", json=BODY, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert _tickets(database) == 1
    other = backoffice_client.post("/api/v1/tickets", json={**BODY, "message": "Anders"},
                                   headers=headers)
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    without_key = backoffice_client.post("/api/v1/tickets", json=BODY)
    assert without_key.json()["reference"] == "KR-2026-000002"


def _with(path: str, value: Any) -> dict[str, Any]:
    body = {**BODY, "contact": dict(BODY["contact"])}
    target: dict[str, Any] = body
    *parents, leaf = path.split(".")
    for parent in parents:
        target = target[parent]
    if value is _MISSING:
        del target[leaf]
    else:
        target[leaf] = value
    return body


_MISSING = object()


@pytest.mark.parametrize(("path", "value", "loc"), [
    ("contact.email", "erika@example", ["body", "contact", "email"]),
    ("contact.email", "not an address", ["body", "contact", "email"]),
    ("contact.phone", "call me maybe", ["body", "contact", "phone"]),
    ("contact", {}, ["body", "contact"]),  # neither e-mail nor phone
    ("contact", {"email": None, "phone": None}, ["body", "contact"]),
    ("contact", _MISSING, ["body", "contact"]),
    ("consent", _MISSING, ["body", "consent"]),
    ("consent", False, ["body", "consent"]),
    ("message", "", ["body", "message"]),
    ("message", "   ", ["body", "message"]),
    ("message", "x" * 5001, ["body", "message"]),
    ("topic", "x" * 201, ["body", "topic"]),
    ("contact.email", "a" * 250 + "@example.org", ["body", "contact", "email"]),
    ("preferred_language", "xx", ["body", "preferred_language"]),
    ("department", "finanzamt", ["body", "department"]),
    ("conversation_id", "never-stored", ["body", "conversation_id"]),
    ("transcript", [{"role": "citizen", "text": "x" * 4001}], ["body", "transcript", 0, "text"]),
    ("transcript", [{"role": "hacker", "text": "x"}], ["body", "transcript", 0, "role"]),
    ("surprise", "field", ["body", "surprise"]),
])
def test_bad_input_is_422_naming_the_field_and_writes_nothing(
        backoffice_client: TestClient, database: Database, path: str, value: Any,
        loc: list[Any]) -> None:
    response = backoffice_client.post("/api/v1/tickets", json=_with(path, value))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc
    assert _tickets(database) == 0


@pytest.mark.parametrize("key", ["short", "has space inside it", "x" * 201])
def test_malformed_idempotency_keys_are_422(backoffice_client: TestClient, database: Database,
                                            key: str) -> None:
    response = backoffice_client.post("/api/v1/tickets", json=BODY,
                                      headers={"Idempotency-Key": key})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert _tickets(database) == 0


def test_a_malformed_json_body_is_422(backoffice_client: TestClient, database: Database) -> None:
    response = backoffice_client.post("/api/v1/tickets", content=b"{not json",
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert _tickets(database) == 0


def test_the_service_works_without_the_search_model(backoffice_client: TestClient) -> None:
    assert backoffice_client.get("/healthz").json() == {"status": "ok"}
    ready = backoffice_client.get("/readyz")
    assert ready.status_code == 503
    assert "CHATBOT_LOAD_SEARCH=false" in ready.json()["reason"]
    assert backoffice_client.post("/api/v1/search", json={"query": "Pass"}).status_code == 503
    paths = backoffice_client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/tickets", "/api/v1/tickets/{reference}", "/api/v1/appointments",
            "/api/v1/appointments/slots", "/api/v1/agent/tickets"} <= set(paths)


def test_an_optional_name_reaches_the_agent(backoffice_client: TestClient,
                                            make_user: Any) -> None:
    token = make_user()
    named = backoffice_client.post("/api/v1/tickets", json={**BODY, "name": " Erika M. "})
    blank = backoffice_client.post("/api/v1/tickets", json={**BODY, "name": "   "})
    assert named.status_code == blank.status_code == 201
    headers = {"Authorization": f"Bearer {token}"}
    contact = backoffice_client.get(f"/api/v1/agent/tickets/{named.json()['reference']}",
                                    headers=headers).json()["contact"]
    assert contact == {"email": "erika@example.org", "phone": "+49 221 1234567",
                       "name": "Erika M."}
    assert backoffice_client.get(f"/api/v1/agent/tickets/{blank.json()['reference']}",
                                 headers=headers).json()["contact"]["name"] is None
    too_long = backoffice_client.post("/api/v1/tickets", json={**BODY, "name": "x" * 201})
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["body", "name"]


def test_a_forged_host_header_never_reaches_links(backoffice_client: TestClient,
                                                  backoffice_settings: Settings) -> None:
    """Without CHATBOT_PUBLIC_BASE_URL, links follow the Host header only for trusted
    hosts; a forged one gets the address the connection arrived on."""
    forged = backoffice_client.post("/api/v1/tickets", json=BODY,
                                    headers={"Host": "evil.example"})
    assert forged.json()["status_url"].startswith("http://testserver/api/v1/tickets/")
    backoffice_settings.trusted_hosts = ("stadt.example",)
    trusted = backoffice_client.post("/api/v1/tickets", json=BODY,
                                     headers={"Host": "stadt.example"})
    assert trusted.json()["status_url"].startswith("http://stadt.example/api/v1/tickets/")
