"""The chat with the real model: "Ist mein Ausweis fertig?" offers the case-status form
when a connector is configured, and takes the usual way without one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chatbot.api import create_app
from chatbot.config import Settings
from tests.conftest import FakeClock

pytestmark = pytest.mark.slow

EXPORT = ("application_number,date_of_birth,kind,state,date\n"
          "A123456,1990-02-01,personalausweis,ready_for_pickup,2026-10-01\n")


def _client(tmp_path: Path, search_service: Any, corpus_index_dir: Path,
            **overrides: Any) -> TestClient:
    settings = Settings(index_dir=corpus_index_dir, index_poll_seconds=0, outbox_poll_seconds=0,
                        database_url=f"sqlite:///{tmp_path / 'chat.sqlite3'}", **overrides)
    return TestClient(create_app(settings, search_service=search_service, clock=FakeClock()))


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    path.write_text(EXPORT, encoding="utf-8")
    return path


def test_is_my_id_ready_offers_the_form_and_the_form_answers(
        tmp_path: Path, search_service: Any, corpus_index_dir: Path, export: Path) -> None:
    with _client(tmp_path, search_service, corpus_index_dir, case_status_csv=export) as client:
        reply = client.post("/api/v1/chat", json={"message": "Ist mein Ausweis fertig?"})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["language"]["code"] == "de"
        assert next(a["kind"] for a in body["actions"]) == "case_status"
        action = body["actions"][0]
        assert "Antragsnummer" in body["text"]
        assert "Geburtsdatum" in body["text"]
        answer = client.post(action["href"], json={"application_number": "A123456",
                                                   "date_of_birth": "01.02.1990",
                                                   "lang": body["language"]["code"]})
        assert "zur Abholung bereit" in answer.json()["text"]


def test_without_a_connector_the_question_takes_the_usual_way(
        tmp_path: Path, search_service: Any, corpus_index_dir: Path) -> None:
    with _client(tmp_path, search_service, corpus_index_dir) as client:
        body = client.post("/api/v1/chat", json={"message": "Ist mein Ausweis fertig?"}).json()
        assert all(a["kind"] != "case_status" for a in body["actions"])
        assert "Antragsnummer" not in body["text"]
