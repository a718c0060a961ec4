"""Agents' queues by what they serve, assignment, and the transcript as text with links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import FakeClock


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ticket(client: TestClient, department: str | None, language: str, **extra: Any) -> str:
    response = client.post("/api/v1/tickets", json={
        "message": f"Frage an {department}", "department": department,
        "preferred_language": language, "contact": {"email": "c@example.org"},
        "consent": True, **extra})
    assert response.status_code == 201, response.text
    reference: str = response.json()["reference"]
    return reference


def _queue(client: TestClient, headers: dict[str, str], view: str | None = None
           ) -> list[str]:
    query = f"?view={view}" if view else ""
    response = client.get(f"/api/v1/agent/tickets{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["items"]]


def test_the_default_queue_shows_what_the_agent_serves_oldest_first(
        backoffice_client: TestClient, make_user: Callable[..., str], clock: FakeClock) -> None:
    wohngeld_tr = _ticket(backoffice_client, "wohngeld", "tr")
    clock.advance(minutes=5)
    general_tr = _ticket(backoffice_client, None, "tr")
    clock.advance(minutes=5)
    general_de = _ticket(backoffice_client, None, "de")
    standesamt_tr = _ticket(backoffice_client, "standesamt", "tr")
    wohngeld_de = _ticket(backoffice_client, "wohngeld", "de")
    serves = _bearer(make_user("t.yilmaz", departments=["wohngeld"], languages=["tr", "ku"]))
    everything = _bearer(make_user("a.schmidt"))

    # Its department and "allgemein" (every agent triages), in its languages.
    assert _queue(backoffice_client, serves) == [wohngeld_tr, general_tr]
    assert _queue(backoffice_client, serves, "all") == [
        wohngeld_tr, general_tr, general_de, standesamt_tr, wohngeld_de]
    # An agent without departments or languages serves all.
    assert _queue(backoffice_client, everything) == _queue(backoffice_client, serves, "all")
    me = backoffice_client.get("/api/v1/agent/me", headers=serves).json()
    assert me == {"name": "t.yilmaz", "role": "agent", "departments": ["wohngeld"],
                  "languages": ["tr", "ku"]}


def test_assignment_moves_a_ticket_into_one_agents_queue(
        backoffice_client: TestClient, make_user: Callable[..., str], clock: FakeClock) -> None:
    reference = _ticket(backoffice_client, "wohngeld", "tr")
    other = _ticket(backoffice_client, "wohngeld", "tr")
    yilmaz = _bearer(make_user("t.yilmaz", departments=["wohngeld"], languages=["tr"]))
    schmidt = _bearer(make_user("a.schmidt", departments=["standesamt"], languages=["de"]))
    make_user("e.redakteur", "editor")
    assert _queue(backoffice_client, schmidt) == []

    clock.advance(minutes=30)
    response = backoffice_client.post(f"/api/v1/agent/tickets/{reference}/assignment",
                                      json={"assignee": "a.schmidt"}, headers=yilmaz)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["assignee"] == "a.schmidt"
    assert body["assigned_at"] == "2026-10-05T08:30:00+02:00"
    assert body["events"][-1] == {"kind": "assigned", "from_status": None, "to_status": None,
                                  "body": "a.schmidt", "actor": "t.yilmaz",
                                  "at": "2026-10-05T08:30:00+02:00"}
    # Assigned: in the assignee's queue whatever it serves, out of the colleagues'.
    assert _queue(backoffice_client, schmidt) == [reference]
    assert _queue(backoffice_client, yilmaz) == [other]
    listed = backoffice_client.get("/api/v1/agent/tickets?view=all", headers=yilmaz).json()
    assert [i["assignee"] for i in listed["items"]] == ["a.schmidt", None]
    # Repeating it changes nothing; null puts it back into the queue.
    again = backoffice_client.post(f"/api/v1/agent/tickets/{reference}/assignment",
                                   json={"assignee": "a.schmidt"}, headers=yilmaz).json()
    assert len(again["events"]) == len(body["events"])
    back = backoffice_client.post(f"/api/v1/agent/tickets/{reference}/assignment",
                                  json={"assignee": None}, headers=schmidt).json()
    assert (back["assignee"], back["assigned_at"], back["events"][-1]["body"]) == (
        None, None, None)
    assert _queue(backoffice_client, yilmaz) == [reference, other]

    # The citizen's view shows nothing of it.
    agents = backoffice_client.get("/api/v1/agent/agents", headers=yilmaz).json()
    assert [a["name"] for a in agents] == ["a.schmidt", "t.yilmaz"]  # not the editor


def test_assignment_errors_are_precise_and_change_nothing(
        backoffice_client: TestClient, make_user: Callable[..., str]) -> None:
    reference = _ticket(backoffice_client, "wohngeld", "tr")
    agent = _bearer(make_user("a.schmidt"))
    make_user("e.redakteur", "editor")
    for assignee in ("nobody", "e.redakteur"):
        response = backoffice_client.post(f"/api/v1/agent/tickets/{reference}/assignment",
                                          json={"assignee": assignee}, headers=agent)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "no active agent" in response.text
    missing = backoffice_client.post("/api/v1/agent/tickets/KR-2026-999999/assignment",
                                     json={"assignee": "a.schmidt"}, headers=agent)
    assert missing.status_code == 404
    for status in ("resolved", "closed"):
        backoffice_client.post(f"/api/v1/agent/tickets/{reference}/status",
                               json={"status": status}, headers=agent).raise_for_status()
    closed = backoffice_client.post(f"/api/v1/agent/tickets/{reference}/assignment",
                                    json={"assignee": "a.schmidt"}, headers=agent)
    assert closed.status_code == 409
    ticket = backoffice_client.get(f"/api/v1/agent/tickets/{reference}", headers=agent).json()
    assert ticket["assignee"] is None
    assert "assigned" not in [e["kind"] for e in ticket["events"]]


def test_the_transcript_comes_as_text_with_links_and_the_hotline_readable(
        backoffice_client: TestClient, make_user: Callable[..., str]) -> None:
    answer = ("**Reisepass**\n- 70 Euro\nQuelle: [Reisepass](https://stadt.example/a) "
              "[x](javascript:alert(1))\nHotline: 02151 86-0, Ihre Nummer: 0171 2345678")
    reference = _ticket(backoffice_client, None, "de", transcript=[
        {"role": "citizen", "text": "Ich habe 02151 86-0 angerufen, bitte 0171 2345678 "
                                    "zurückrufen"},
        {"role": "assistant", "text": answer}])
    agent = _bearer(make_user("a.schmidt"))
    ticket = backoffice_client.get(f"/api/v1/agent/tickets/{reference}", headers=agent).json()
    citizen, assistant = ticket["transcript"]
    assert citizen["text"] == "Ich habe 02151 86-0 angerufen, bitte [phone] zurückrufen"
    assert assistant["parts"] == [
        {"text": "Reisepass\n• 70 Euro\nQuelle: ", "href": None},
        {"text": "Reisepass", "href": "https://stadt.example/a"},
        {"text": " [x](javascript:alert(1))\nHotline: 02151 86-0, Ihre Nummer: [phone]",
         "href": None}]
