"""Agents' endpoints: 401 without a valid token, 403 for editors, the queue and work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FakeClock

TICKET: dict[str, Any] = {"message": "Wann bekomme ich meinen Wohngeldbescheid?",
                          "department": "wohngeld", "contact": {"phone": "0221 123456"},
                          "preferred_language": "tr", "consent": True,
                          "transcript": [{"role": "citizen",
                                          "text": "Meine IBAN ist DE89370400440532013000"}]}

AGENT_ROUTES = [
    ("GET", "/api/v1/agent/tickets", None),
    ("GET", "/api/v1/agent/tickets/KR-2026-000001", None),
    ("POST", "/api/v1/agent/tickets/KR-2026-000001/status", {"status": "in_progress"}),
    ("POST", "/api/v1/agent/tickets/KR-2026-000001/notes", {"text": "x"}),
    ("POST", "/api/v1/agent/tickets/KR-2026-000001/replies", {"text": "x"}),
    ("POST", "/api/v1/agent/tickets/KR-2026-000001/assignment", {"assignee": None}),
    ("GET", "/api/v1/agent/agents", None),
    ("GET", "/api/v1/agent/appointments", None),
]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def agent(make_user: Callable[..., str]) -> dict[str, str]:
    return _bearer(make_user("a.schmidt", "agent"))


@pytest.mark.parametrize(("method", "path", "body"), AGENT_ROUTES)
def test_no_agent_endpoint_answers_without_a_valid_agent_token(
        backoffice_client: TestClient, make_user: Callable[..., str], method: str, path: str,
        body: dict[str, Any] | None) -> None:
    backoffice_client.post("/api/v1/tickets", json=TICKET)
    editor = make_user("e.redakteur", "editor")
    for headers in ({}, _bearer("not-a-token"), {"Authorization": "Basic YTpi"}):
        response = backoffice_client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert "Wohngeld" not in response.text
    forbidden = backoffice_client.request(method, path, json=body, headers=_bearer(editor))
    assert forbidden.status_code == 403
    assert "Wohngeld" not in forbidden.text


def test_me_names_the_token_owner(backoffice_client: TestClient,
                                  make_user: Callable[..., str]) -> None:
    editor = make_user("e.redakteur", "editor")
    assert backoffice_client.get("/api/v1/agent/me", headers=_bearer(editor)).json() == {
        "name": "e.redakteur", "role": "editor", "departments": None, "languages": None}


def test_the_queue_with_filters(backoffice_client: TestClient, agent: dict[str, str],
                                clock: FakeClock) -> None:
    backoffice_client.post("/api/v1/tickets", json=TICKET)
    clock.advance(hours=50)
    backoffice_client.post("/api/v1/tickets", json={**TICKET, "department": "standesamt",
                                                    "preferred_language": "de"})

    def refs(**params: Any) -> list[str]:
        response = backoffice_client.get("/api/v1/agent/tickets", params=params, headers=agent)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"])
        return [item["reference"] for item in body["items"]]

    assert refs() == ["KR-2026-000001", "KR-2026-000002"]
    assert refs(department="wohngeld") == ["KR-2026-000001"]
    assert refs(language="de") == ["KR-2026-000002"]
    assert refs(min_age_hours=48) == ["KR-2026-000001"]
    assert refs(max_age_hours=1) == ["KR-2026-000002"]
    assert refs(status=["open", "closed"]) == ["KR-2026-000001", "KR-2026-000002"]
    assert refs(status="resolved") == []
    first = backoffice_client.get("/api/v1/agent/tickets", headers=agent).json()["items"][0]
    assert first["age_hours"] == 50.0
    bad = backoffice_client.get("/api/v1/agent/tickets", params={"status": "lost"},
                                headers=agent)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "status", 0]


def test_working_a_ticket(backoffice_client: TestClient, agent: dict[str, str],
                          clock: FakeClock) -> None:
    created = backoffice_client.post("/api/v1/tickets", json=TICKET).json()
    url = f"/api/v1/agent/tickets/{created['reference']}"

    full = backoffice_client.get(url, headers=agent).json()
    assert full["message"] == TICKET["message"]
    assert full["contact"] == {"email": None, "phone": "0221 123456", "name": None}
    assert full["transcript"] == [{"role": "citizen", "text": "Meine IBAN ist [iban]",
                                   "parts": [{"text": "Meine IBAN ist [iban]", "href": None}]}]

    clock.advance(minutes=5)
    moved = backoffice_client.post(f"{url}/status", headers=agent,
                                   json={"status": "in_progress", "comment": "übernommen"})
    assert moved.status_code == 200
    assert moved.json()["status"] == "in_progress"
    assert moved.json()["events"][-1] == {
        "kind": "status", "from_status": "open", "to_status": "in_progress",
        "body": "übernommen", "actor": "a.schmidt", "at": "2026-10-05T08:05:00+02:00"}
    refused = backoffice_client.post(f"{url}/status", headers=agent, json={"status": "open"})
    assert refused.status_code == 409
    invalid = backoffice_client.post(f"{url}/status", headers=agent, json={"status": "done"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "status"]

    note = backoffice_client.post(f"{url}/notes", headers=agent,
                                  json={"text": "Bescheid liegt beim Sachbearbeiter"})
    reply = backoffice_client.post(f"{url}/replies", headers=agent,
                                   json={"text": "Ihr Bescheid kommt nächste Woche."})
    assert (note.status_code, reply.status_code) == (201, 201)
    assert [e["kind"] for e in reply.json()["events"]] == ["created", "status", "note", "reply"]
    for empty in ({"text": ""}, {"text": "  "}, {}, {"text": "x" * 5001}):
        response = backoffice_client.post(f"{url}/notes", headers=agent, json=empty)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "text"]

    # The citizen sees the status change and the reply, never the internal note.
    citizen = backoffice_client.get(f"/api/v1/tickets/{created['reference']}",
                                    headers={"X-Access-Token": created["access_token"]}
                                    ).json()
    assert citizen["status"] == "in_progress"
    assert [h["status"] for h in citizen["history"]] == ["open", "in_progress"]
    assert citizen["replies"] == [{"text": "Ihr Bescheid kommt nächste Woche.",
                                   "at": "2026-10-05T08:05:00+02:00"}]
    assert "Sachbearbeiter" not in str(citizen)
    assert "a.schmidt" not in str(citizen)

    missing = backoffice_client.get("/api/v1/agent/tickets/KR-2026-999999", headers=agent)
    assert missing.status_code == 404


def test_the_days_appointments(backoffice_client: TestClient, agent: dict[str, str]) -> None:
    for start, name in (("2026-10-05T10:00:00+02:00", "Erika"),
                        ("2026-10-05T09:00:00+02:00", "Ali"),
                        ("2026-10-06T09:00:00+02:00", "Morgen")):
        response = backoffice_client.post("/api/v1/appointments", json={
            "service": "buergerservice", "start": start, "name": name, "consent": True,
            "contact": {"phone": "0221 123456"}})
        assert response.status_code == 201, response.text
    today = backoffice_client.get("/api/v1/agent/appointments", headers=agent).json()
    assert [(a["name"], a["start"], a["counter_number"]) for a in today] == [
        ("Ali", "2026-10-05T09:00:00+02:00", 1), ("Erika", "2026-10-05T10:00:00+02:00", 1)]
    assert today[0]["contact"] == {"email": None, "phone": "0221 123456"}
    tomorrow = backoffice_client.get("/api/v1/agent/appointments",
                                     params={"date": "2026-10-06"}, headers=agent).json()
    assert [a["name"] for a in tomorrow] == ["Morgen"]
    bad = backoffice_client.get("/api/v1/agent/appointments", params={"date": "morgen"},
                                headers=agent)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "date"]
