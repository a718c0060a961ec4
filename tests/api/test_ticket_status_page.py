"""The citizen's side of a ticket after creation: the status page, writing back, and
the e-mails an agent's work sends (with a real SMTP server), on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chatbot.api import create_app
from chatbot.config import Settings
from chatbot.storage import Database
from chatbot.storage.models import OutboxMessage
from tests.conftest import FakeClock
from tests.smtp_server import SmtpServer, body_of

BODY: dict[str, Any] = {
    "message": "Ich habe meinen Reisepass verloren. Was muss ich tun?",
    "contact": {"email": "erika@example.org"},
    "preferred_language": "de",
    "consent": True,
}


def create(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/v1/tickets", json={**BODY, **changes})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def agent(client: TestClient, token: str, path: str, body: dict[str, Any]) -> Any:
    response = client.post(f"/api/v1/agent/tickets/{path}", json=body,
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_creation_gives_a_status_page_link_with_the_code_in_the_fragment(
        backoffice_client: TestClient) -> None:
    created = create(backoffice_client)
    reference, token = created["reference"], created["access_token"]
    assert created["status_page_url"] == (
        f"http://testserver/anliegen/{reference}#code={token}")

    page = backoffice_client.get(f"/anliegen/{reference}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<html lang="de">' in page.text
    assert "Ihr Anliegen" in page.text
    assert token not in page.text


@pytest.mark.parametrize(("query", "accept", "lang", "title"), [
    ("?lang=tr", None, "tr", "Talebiniz"),
    ("", "ku,de;q=0.5", "ku", "Daxwaza te"),
    ("", "pl-PL,pl;q=0.9", "pl", "Twoja sprawa"),
    ("?lang=xx", "ar", "de", "Ihr Anliegen"),
])
def test_the_page_speaks_the_requested_or_the_browsers_language(
        backoffice_client: TestClient, query: str, accept: str | None, lang: str,
        title: str) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    page = backoffice_client.get(f"/anliegen{query}", headers=headers)
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text
    assert title in page.text
    assert 'id="lookup-form"' in page.text
    assert backoffice_client.get("/anliegen-static/status.js").status_code == 200
    assert backoffice_client.get("/anliegen-static/other.js").status_code == 404


def test_the_citizen_writes_back_and_the_agent_sees_it(
        backoffice_client: TestClient, make_user: Any) -> None:
    token = make_user()
    created = create(backoffice_client, preferred_language="it")
    reference, access = created["reference"], created["access_token"]
    agent(backoffice_client, token, f"{reference}/status", {"status": "in_progress"})
    agent(backoffice_client, token, f"{reference}/replies",
          {"text": "Ci serve una copia della denuncia."})
    agent(backoffice_client, token, f"{reference}/status", {"status": "waiting_for_citizen"})

    url = f"/api/v1/tickets/{reference}/messages"
    answer = backoffice_client.post(url, headers={"X-Access-Token": access},
                                    json={"text": "Ecco, scrivetemi a erika@example.org "
                                                  "o 0176 12345678 (ho chiamato lo 02151 86-0)"})
    assert answer.status_code == 201, answer.text
    public = answer.json()
    assert public["status"] == "in_progress"
    assert [(m["author"], m["text"]) for m in public["messages"]] == [
        ("agent", "Ci serve una copia della denuncia."),
        # The citizen's contacts are masked, the city's hotline (the setting) is not.
        ("citizen", "Ecco, scrivetemi a [email] o [phone] (ho chiamato lo 02151 86-0)")]
    assert public["can_answer"] is True
    assert [h["status"] for h in public["history"]] == [
        "open", "in_progress", "waiting_for_citizen", "in_progress"]

    seen = backoffice_client.get(f"/api/v1/agent/tickets/{reference}",
                                 headers={"Authorization": f"Bearer {token}"}).json()
    assert seen["status"] == "in_progress"
    assert [(e["kind"], e["actor"], e["body"]) for e in seen["events"]][-2:] == [
        ("citizen_reply", "citizen",
         "Ecco, scrivetemi a [email] o [phone] (ho chiamato lo 02151 86-0)"),
        ("status", "citizen", None)]


def test_a_wrong_token_answers_like_an_unknown_reference(backoffice_client: TestClient) -> None:
    created = create(backoffice_client)
    reference = created["reference"]
    body = {"text": "Hallo?"}
    wrong = backoffice_client.post(f"/api/v1/tickets/{reference}/messages", json=body,
                                   headers={"X-Access-Token": "x" * 43})
    unknown = backoffice_client.post("/api/v1/tickets/KR-2026-999999/messages", json=body,
                                     headers={"X-Access-Token": created["access_token"]})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    # A write takes the token from the header only, never from a URL.
    in_query = backoffice_client.post(f"/api/v1/tickets/{reference}/messages", json=body,
                                      params={"token": created["access_token"]})
    assert in_query.status_code == 401
    assert in_query.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("text", "field"), [
    ("   ", "text"), ("a\x00b", "text"), ("x" * 5001, "text"), ("\ud800", None)])
def test_hostile_or_empty_answers_are_refused_and_nothing_is_stored(
        backoffice_client: TestClient, text: str, field: str | None) -> None:
    created = create(backoffice_client)
    url = f"/api/v1/tickets/{created['reference']}/messages"
    headers = {"X-Access-Token": created["access_token"]}
    if field is None:  # a lone surrogate can only travel as a JSON escape
        response = backoffice_client.post(url, content=b'{"text": "\\ud800"}',
                                          headers={**headers,
                                                   "Content-Type": "application/json"})
    else:
        response = backoffice_client.post(url, json={"text": text}, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "text"
    status = backoffice_client.get(f"/api/v1/tickets/{created['reference']}", headers=headers)
    assert status.json()["messages"] == []
    extra = backoffice_client.post(url, json={"text": "ok", "html": "<b>"}, headers=headers)
    assert extra.status_code == 422


def test_a_closed_ticket_takes_no_answer(backoffice_client: TestClient,
                                         make_user: Any) -> None:
    token = make_user()
    created = create(backoffice_client)
    agent(backoffice_client, token, f"{created['reference']}/status", {"status": "closed"})
    headers = {"X-Access-Token": created["access_token"]}
    response = backoffice_client.post(f"/api/v1/tickets/{created['reference']}/messages",
                                      json={"text": "Noch eine Frage"}, headers=headers)
    assert response.status_code == 409
    assert backoffice_client.get(f"/api/v1/tickets/{created['reference']}",
                                 headers=headers).json()["can_answer"] is False


def test_answers_are_rate_limited_like_new_tickets(backoffice_client: TestClient) -> None:
    created = create(backoffice_client)  # one of the ten a minute
    url = f"/api/v1/tickets/{created['reference']}/messages"
    headers = {"X-Access-Token": created["access_token"]}
    codes = [backoffice_client.post(url, json={"text": f"Nachricht {i}"},
                                    headers=headers).status_code for i in range(10)]
    assert codes == [201] * 9 + [429]


def test_without_smtp_replies_are_recorded_as_skipped_and_the_console_says_so(
        backoffice_client: TestClient, make_user: Any, database: Database) -> None:
    token = make_user()
    created = create(backoffice_client)
    agent(backoffice_client, token, f"{created['reference']}/replies", {"text": "Antwort"})
    with database.session() as session:
        [row] = session.scalars(select(OutboxMessage)).all()
    assert row.state == "skipped"
    listed = backoffice_client.get(f"/api/v1/agent/tickets/{created['reference']}/notifications",
                                   headers={"Authorization": f"Bearer {token}"}).json()
    assert [(n["kind"], n["state"], n["attempts"], n["next_attempt_at"], n["last_error"])
            for n in listed] == [("reply", "skipped", 0, None,
                                  "e-mail is not configured (CHATBOT_SMTP_URL)")]
    unknown = backoffice_client.get("/api/v1/agent/tickets/KR-2026-999999/notifications",
                                    headers={"Authorization": f"Bearer {token}"})
    assert unknown.status_code == 404
    console = backoffice_client.get(f"/console/tickets/{created['reference']}")
    assert "E-Mail ist nicht eingerichtet" in console.text
    assert "E-Mail ist nicht eingerichtet" in backoffice_client.get("/console").text


@pytest.fixture
def mail_client(db_url: str, tmp_path: Any, clock: FakeClock
                ) -> Iterator[tuple[TestClient, SmtpServer]]:
    smtp = SmtpServer().start()
    settings = Settings(database_url=db_url, load_search=False, index_poll_seconds=0,
                        index_dir=tmp_path / "indexes", smtp_url=smtp.url,  # type: ignore[arg-type]
                        smtp_from="Stadt <buergerservice@example-stadt.de>",
                        outbox_poll_seconds=0.1,
                        public_base_url="https://service.example-stadt.de")
    with TestClient(create_app(settings, clock=clock)) as client:
        yield client, smtp
    smtp.stop()


def test_the_servers_sender_mails_an_agents_reply_and_the_link_opens_the_ticket(
        mail_client: tuple[TestClient, SmtpServer], make_user: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client, smtp = mail_client
    token = make_user()
    created = create(client, preferred_language="en", name="Erika")
    reference = created["reference"]
    assert created["status_page_url"].startswith(
        f"https://service.example-stadt.de/anliegen/{reference}#code=")
    assert "nicht eingerichtet" not in client.get(f"/console/tickets/{reference}").text
    agent(client, token, f"{reference}/replies", {"text": "Please bring the police report."})

    [message] = smtp.wait_for(1)
    assert message["Subject"] == f"Reply to your request {reference}"
    body = body_of(message)
    match = re.search(r"https://service\.example-stadt\.de/anliegen/" + reference
                      + r"#code=([\w-]+)", body)
    assert match is not None
    status = client.get(f"/api/v1/tickets/{reference}",
                        headers={"X-Access-Token": match.group(1)})
    assert status.status_code == 200
    assert status.json()["messages"][0]["text"] == "Please bring the police report."
    # The code from the e-mail may write back too.
    answer = client.post(f"/api/v1/tickets/{reference}/messages", json={"text": "Thanks!"},
                         headers={"X-Access-Token": match.group(1)})
    assert answer.status_code == 201
    sent = client.get(f"/api/v1/agent/tickets/{reference}/notifications",
                      headers={"Authorization": f"Bearer {token}"}).json()
    assert [(n["kind"], n["state"], n["attempts"]) for n in sent] == [("reply", "sent", 1)]
    # Neither code reached a log line (access lines, the sender's, SQL).
    assert "outbox: sent notification" in caplog.text
    assert match.group(1) not in caplog.text
    assert created["access_token"] not in caplog.text
