"""POST /api/v1/chat, /api/v1/chat/feedback and GET /api/v1/hotline over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from chatbot.config import Settings
from tests.conftest import FakeClock

pytestmark = pytest.mark.slow

# Thursday 8 October 2026, 16:59 in Berlin: the hotline is open for one more minute.
THURSDAY_1659 = datetime(2026, 10, 8, 14, 59, tzinfo=UTC)


@pytest.fixture
def db_file(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'chat.sqlite3'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(THURSDAY_1659)


@pytest.fixture
def client(search_service: Any, corpus_index_dir: Path, db_file: str,
           clock: FakeClock) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from chatbot.api import create_app

    settings = Settings(index_dir=corpus_index_dir, index_poll_seconds=0, database_url=db_file)
    with TestClient(create_app(settings, search_service=search_service, clock=clock)) as client:
        yield client


def count(db_file: str, model: Any) -> int:
    from chatbot.storage import Database

    database = Database(db_file)
    try:
        with database.session() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        database.dispose()


def test_answer_then_follow_up_and_feedback(client: Any, db_file: str) -> None:
    from chatbot.storage.models import ChatFeedback, ConversationMessage

    first = client.post("/api/v1/chat", json={
        "message": "Ich brauche einen neuen Reisepass, wie beantrage ich den?"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["type"] == "answer"
    assert body["language"]["code"] == "de"
    assert body["sources"][0]["article_id"] == "reisepass-beantragen"
    assert body["sources"][0]["url"]
    conversation_id = body["conversation_id"]

    follow = client.post("/api/v1/chat", json={"message": "Was muss ich mitbringen?",
                                               "conversation_id": conversation_id})
    assert follow.status_code == 200
    assert follow.json()["turn"] == 2
    assert follow.json()["sources"][0]["article_id"] == "reisepass-beantragen"
    assert count(db_file, ConversationMessage) == 4

    rated = client.post("/api/v1/chat/feedback", json={
        "conversation_id": conversation_id, "turn": 2, "helpful": True, "comment": "gut"})
    assert rated.status_code == 201, rated.text
    assert client.post("/api/v1/chat/feedback", json={
        "conversation_id": conversation_id, "turn": 3, "helpful": False}).status_code == 404
    assert client.post("/api/v1/chat/feedback", json={
        "conversation_id": "nope", "turn": 1, "helpful": False}).status_code == 404
    assert count(db_file, ChatFeedback) == 1


def test_caller_lang_wins(client: Any) -> None:
    body = client.post("/api/v1/chat", json={"message": "how do i become a german citizen",
                                             "lang": "de"}).json()
    assert body["language"]["code"] == "de"
    # English words analysed as German are weaker evidence: an answer or the article
    # offered as "may help", in German either way.
    assert body["type"] in ("answer", "escalate")
    assert body["sources"][0]["article_id"] == "einbuergerung"
    assert "Einbürgerung" in body["text"]


def test_escalation_shows_open_hotline(client: Any) -> None:
    body = client.post("/api/v1/chat", json={
        "message": "Who won the football world cup in 2014?"}).json()
    assert body["type"] == "escalate"
    assert {a["kind"] for a in body["actions"]} >= {"ticket", "hotline"}
    assert body["hotline"]["open"] is True
    assert "02151 86-0" in body["text"]
    assert "17:00" in body["text"]


def test_unsupported_language(client: Any) -> None:
    body = client.post("/api/v1/chat", json={
        "message": "Добрий день, як мені отримати новий паспорт?"}).json()
    assert body["type"] == "unsupported_language"
    assert {a["kind"] for a in body["actions"]} >= {"hotline", "appointment"}


@pytest.mark.parametrize("payload", [
    {"message": ""},
    {"message": "   \n "},
    {"message": "x" * 1001},
    {"message": "Reisepass", "lang": "xx"},
    {"message": "Reisepass", "conversation_id": "does-not-exist"},
    {"message": "Reisepass", "unexpected": 1},
])
def test_bad_input_rejected_nothing_stored(client: Any, db_file: str,
                                           payload: dict[str, Any]) -> None:
    from chatbot.storage.models import Conversation, ConversationMessage

    response = client.post("/api/v1/chat", json=payload)
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]
    assert count(db_file, Conversation) == 0
    assert count(db_file, ConversationMessage) == 0


def test_hotline_status(client: Any, clock: FakeClock) -> None:
    body = client.get("/api/v1/hotline", params={"lang": "en"}).json()
    assert body["open"] is True
    assert body["phone"] == "02151 86-0"
    assert "open now" in body["text"]
    clock.now = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)  # Saturday
    body = client.get("/api/v1/hotline", params={"lang": "de"}).json()
    assert body["open"] is False
    assert body["next_open"].startswith("2026-10-12T08:00:00")
    assert "Montag, 12.10.2026, 08:00" in body["text"]
    assert client.get("/api/v1/hotline", params={"lang": "xx"}).status_code == 422
