"""Unusual but valid input is a 422 naming the field, never a 500 (issue 14, "What was
measured" 3), on SQLite and on PostgreSQL: lone surrogates, NUL characters,
non-finite numbers, dates the calendar arithmetic overflows on, 64-bit offsets."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chatbot.config import Settings
from chatbot.index import IndexStore, build_index
from chatbot.language import LanguageDetector
from chatbot.retrieval.service import SearchService
from chatbot.storage import Database
from chatbot.storage.models import (
    Appointment,
    ChatFeedback,
    Conversation,
    ConversationMessage,
    Ticket,
    TicketEvent,
)
from tests.conftest import FakeClock, FakeEmbedder

SURROGATE = "\\ud800"  # as the JSON escape a client sends: decodes to a lone surrogate
NUL = "\\u0000"
TICKET = '"contact":{"email":"erika@example.org"},"consent":true'
SLOT = '"service":"buergerservice","start":"2026-10-06T09:00:00","consent":true'
STORED = (Ticket, TicketEvent, Appointment, Conversation, ConversationMessage, ChatFeedback)


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    body: str | None  # raw JSON text: json.dumps could not even write some of these
    loc: list[str | int]


def _body_cases(bad: str, label: str) -> list[Case]:
    """The same bad text in every kind of citizen-facing text field."""
    return [
        Case(f"chat-{label}", "POST", "/api/v1/chat", f'{{"message":"Pass{bad}"}}',
             ["body", "message"]),
        Case(f"chat-conversation-{label}", "POST", "/api/v1/chat",
             f'{{"message":"Reisepass","conversation_id":"c{bad}"}}',
             ["body", "conversation_id"]),
        Case(f"search-{label}", "POST", "/api/v1/search", f'{{"query":"Pass{bad}"}}',
             ["body", "query"]),
        Case(f"ticket-{label}", "POST", "/api/v1/tickets",
             f'{{"message":"Hilfe{bad}",{TICKET}}}', ["body", "message"]),
        Case(f"ticket-topic-{label}", "POST", "/api/v1/tickets",
             f'{{"message":"Hilfe","topic":"T{bad}",{TICKET}}}', ["body", "topic"]),
        Case(f"ticket-transcript-{label}", "POST", "/api/v1/tickets",
             f'{{"message":"Hilfe","transcript":[{{"role":"citizen","text":"x{bad}"}}],'
             f'{TICKET}}}', ["body", "transcript", 0, "text"]),
        Case(f"feedback-{label}", "POST", "/api/v1/chat/feedback",
             f'{{"conversation_id":"{{conversation}}","turn":1,"helpful":false,'
             f'"comment":"schlecht{bad}"}}', ["body", "comment"]),
        Case(f"appointment-{label}", "POST", "/api/v1/appointments",
             f'{{"name":"Erika{bad}",{SLOT}}}', ["body", "name"]),
        Case(f"appointment-note-{label}", "POST", "/api/v1/appointments",
             f'{{"name":"Erika","note":"n{bad}",{SLOT}}}', ["body", "note"]),
        Case(f"agent-note-{label}", "POST", "/api/v1/agent/tickets/{reference}/notes",
             f'{{"text":"Notiz{bad}"}}', ["body", "text"]),
        Case(f"agent-status-{label}", "POST", "/api/v1/agent/tickets/{reference}/status",
             f'{{"status":"in_progress","comment":"c{bad}"}}', ["body", "comment"]),
    ]


CASES = [
    *_body_cases(SURROGATE, "surrogate"),
    *_body_cases(NUL, "nul"),
    *[Case(f"search-top_k-{number}", "POST", "/api/v1/search",
           f'{{"query":"Reisepass","top_k":{number}}}', ["body", "top_k"])
      for number in ("NaN", "Infinity", "-Infinity", "1e999999")],
    *[Case(f"feedback-turn-{number}", "POST", "/api/v1/chat/feedback",
           f'{{"conversation_id":"{{conversation}}","turn":{number},"helpful":true}}',
           ["body", "turn"])
      for number in ("NaN", "1e999999", "9223372036854775808")],
    Case("ticket-consent-NaN", "POST", "/api/v1/tickets",
         '{"message":"Hilfe","contact":{"email":"erika@example.org"},"consent":NaN}',
         ["body", "consent"]),
    Case("slots-from-9999", "GET",
         "/api/v1/appointments/slots?service=buergerservice&from=9999-12-31", None,
         ["query", "from"]),
    Case("appointment-start-year-1", "POST", "/api/v1/appointments",
         '{"service":"buergerservice","start":"0001-01-01T00:00:00","name":"Erika",'
         '"consent":true}', ["body", "start"]),
    Case("agent-appointments-date-year-1", "GET", "/api/v1/agent/appointments?date=0001-01-01",
         None, ["query", "date"]),
    Case("agent-tickets-offset-2**63", "GET",
         "/api/v1/agent/tickets?offset=9223372036854775808", None, ["query", "offset"]),
    Case("agent-tickets-department-nul", "GET", "/api/v1/agent/tickets?department=a%00b",
         None, ["query", "department"]),
    Case("agent-appointments-service-nul", "GET",
         "/api/v1/agent/appointments?service=a%00b", None, ["query", "service"]),
]


@pytest.fixture(scope="module")
def search(tmp_path_factory: pytest.TempPathFactory) -> SearchService:
    """A real index of one article, embedded by the fake model (nothing here depends
    on the model's answers)."""
    root = tmp_path_factory.mktemp("hostile")
    article = root / "corpus" / "buergerservice" / "reisepass.de.md"
    article.parent.mkdir(parents=True)
    article.write_text("---\nid: reisepass\nlang: de\ntitle: Reisepass\ndepartment: "
                       "buergerservice\nupdated: 2026-10-01\n---\n## Antrag\n\nDen Reisepass "
                       "beantragen Sie persönlich.\n", encoding="utf-8")
    embedder = FakeEmbedder()
    build_index(corpus_dir=root / "corpus", store=IndexStore(root / "index"), embedder=embedder)
    return SearchService(embedder=embedder, detector=LanguageDetector(),
                         index_root=root / "index")


@dataclass
class World:
    client: TestClient
    database: Database
    agent: dict[str, str]
    conversation: str
    reference: str

    def stored(self) -> dict[str, int]:
        with self.database.session() as session:
            return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                    for model in STORED}


@pytest.fixture
def world(search: SearchService, db_url: str, tmp_path: Path, clock: FakeClock,
          make_user: Callable[..., str]) -> Iterator[World]:
    from chatbot.api import create_app

    settings = Settings(database_url=db_url, index_dir=search.store.root, index_poll_seconds=0,
                        auto_migrate=False)
    agent = {"Authorization": f"Bearer {make_user('a.schmidt', 'agent')}"}
    # raise_server_exceptions=False: a 500 is what the test must see, not a traceback.
    with TestClient(create_app(settings, search_service=search, clock=clock),
                    raise_server_exceptions=False) as client:
        chat = client.post("/api/v1/chat", json={"message": "Reisepass beantragen"})
        assert chat.status_code == 200, chat.text
        ticket = client.post("/api/v1/tickets", json={
            "message": "Hilfe", "contact": {"email": "erika@example.org"}, "consent": True})
        assert ticket.status_code == 201, ticket.text
        database = Database(db_url)
        try:
            yield World(client, database, agent, chat.json()["conversation_id"],
                        ticket.json()["reference"])
        finally:
            database.dispose()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_422_naming_the_field(world: World, case: Case) -> None:
    path = case.path.replace("{reference}", world.reference)
    body = case.body.replace("{conversation}", world.conversation) if case.body else None
    before = world.stored()
    response = world.client.request(case.method, path, content=body, headers={
        "Content-Type": "application/json", **world.agent})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = json.loads(response.content.decode("utf-8"))
    assert [item["loc"] for item in problem["detail"]] == [case.loc]
    assert "input" not in problem["detail"][0]
    assert world.stored() == before  # nothing stored, not even half a turn
    # The connection survives: the next request on it is served.
    assert world.client.get("/healthz").status_code == 200
