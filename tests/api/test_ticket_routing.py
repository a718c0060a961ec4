"""Chat tickets reach the agents who can handle them: triage from the stored chat with
the real model and corpus, and each agent's default queue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chatbot.config import Settings
from chatbot.escalation.users import add_user
from chatbot.language import SUPPORTED_LANGUAGES
from chatbot.storage import Database
from tests.conftest import FakeClock

pytestmark = pytest.mark.slow

MONDAY = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)
CONTACT = {"email": "citizen@example.org"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY)


@pytest.fixture
def app_client(search_service: Any, corpus_index_dir: Path, tmp_path: Path,
               clock: FakeClock) -> Iterator[tuple[Any, Database]]:
    from fastapi.testclient import TestClient

    from chatbot.api import create_app

    url = f"sqlite:///{tmp_path / 'routing.sqlite3'}"
    settings = Settings(index_dir=corpus_index_dir, index_poll_seconds=0, database_url=url,
                        rate_limits_enabled=False)
    with TestClient(create_app(settings, search_service=search_service, clock=clock)) as client:
        database = Database(url)
        yield client, database
        database.dispose()


def agent(database: Database, name: str, departments: list[str], languages: list[str],
          clock: FakeClock) -> dict[str, str]:
    with database.write_session() as session:
        token = add_user(session, name=name, role="agent", now=clock(),
                         departments=departments, languages=languages,
                         known_languages=SUPPORTED_LANGUAGES)[1]
    return {"Authorization": f"Bearer {token}"}


def say(client: Any, message: str, conversation: str | None = None) -> dict[str, Any]:
    response = client.post("/api/v1/chat", json={"message": message,
                                                 "conversation_id": conversation})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ticket_action(reply: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in reply["actions"] if a["kind"] == "ticket")
    return found


def file_ticket(client: Any, **fields: Any) -> str:
    response = client.post("/api/v1/tickets", json={"consent": True, "contact": CONTACT,
                                                    **fields})
    assert response.status_code == 201, response.text
    reference: str = response.json()["reference"]
    return reference


def queue(client: Any, headers: dict[str, str], view: str = "mine") -> list[str]:
    response = client.get(f"/api/v1/agent/tickets?view={view}", headers=headers)
    assert response.status_code == 200, response.text
    return [t["reference"] for t in response.json()["items"]]


def test_a_turkish_vehicle_chat_reaches_the_agent_for_vehicles_in_turkish(
        app_client: tuple[Any, Database], clock: FakeClock) -> None:
    client, database = app_client
    vehicles_tr = agent(database, "t.yilmaz", ["zulassungsstelle"], ["tr"], clock)
    passports_de = agent(database, "m.meier", ["buergerservice"], ["de"], clock)
    # Older tickets the Turkish vehicle agent does not serve: another department in
    # Turkish, a general one in German.
    other_department = file_ticket(client, message="Pasaportum kayboldu",
                                   department="buergerservice", preferred_language="tr")
    general_german = file_ticket(client, message="Wer ist zuständig?")
    clock.advance(hours=2)

    first = say(client, "Arabamı nasıl tescil ettirebilirim?")
    assert first["language"]["code"] == "tr"
    assert first["sources"][0]["article_id"] == "fahrzeug-zulassen", first["text"]
    person = say(client, "bir insanla konuşmak istiyorum", first["conversation_id"])
    assert person["type"] == "escalate"
    action = ticket_action(person)
    # What the widget sends: the action's fields and the reply's language.
    chat_ticket = file_ticket(
        client, message=action["message"], department=action["department"],
        topic=action["topic"], preferred_language=person["language"]["code"],
        conversation_id=person["conversation_id"])
    clock.advance(hours=1)

    details = client.get(f"/api/v1/agent/tickets/{chat_ticket}", headers=vehicles_tr).json()
    assert details["department"] == "zulassungsstelle"
    assert details["preferred_language"] == "tr"
    assert details["topic"] == "Araç tescili (araba kaydı)"
    assert details["message"] == "bir insanla konuşmak istiyorum"
    assert [line["role"] for line in details["transcript"]] == [
        "citizen", "assistant", "citizen", "assistant"]
    # The hotline number the assistant quoted stays readable.
    assert "02151 86-0" in details["transcript"][3]["text"]

    assert queue(client, vehicles_tr)[0] == chat_ticket
    assert other_department not in queue(client, vehicles_tr)
    assert general_german not in queue(client, vehicles_tr)
    assert chat_ticket not in queue(client, passports_de)
    assert general_german in queue(client, passports_de)  # allgemein: everyone triages
    assert queue(client, passports_de, "all") == [other_department, general_german,
                                                  chat_ticket]


def test_the_stored_chat_decides_the_department_and_the_subject(
        app_client: tuple[Any, Database]) -> None:
    client, database = app_client
    vehicles_tr = agent(database, "t.yilmaz", ["zulassungsstelle"], ["tr"], FakeClock())
    first = say(client, "Arabamı nasıl tescil ettirebilirim?")
    assert first["sources"][0]["article_id"] == "fahrzeug-zulassen", first["text"]
    # An older widget that sends neither department nor topic.
    bare = file_ticket(client, message="Lütfen beni arayın", preferred_language="tr",
                       conversation_id=first["conversation_id"])
    found = client.get(f"/api/v1/agent/tickets/{bare}", headers=vehicles_tr).json()
    assert found["department"] == "zulassungsstelle"
    assert found["topic"] == "Arabamı nasıl tescil ettirebilirim?"  # the question asked

    # The chat moved on to something it could not answer: the client's stale
    # department does not route the ticket.
    weather = say(client, "yarın krefeld'de hava nasıl olacak", first["conversation_id"])
    assert weather["type"] == "escalate"
    stale = file_ticket(client, message="hava durumu", department="zulassungsstelle",
                        preferred_language="tr", conversation_id=first["conversation_id"])
    found = client.get(f"/api/v1/agent/tickets/{stale}", headers=vehicles_tr).json()
    assert found["department"] == "allgemein"
    assert found["topic"] == "yarın krefeld'de hava nasıl olacak"
