"""The chat dialogue with the real model and the real corpus index."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chatbot.dialogue.compose import Composer
from chatbot.dialogue.conversation_store import (
    SqlConversationStore,
    StoredConversation,
)
from chatbot.dialogue.core import PastTurn
from chatbot.dialogue.hotline import Hotline
from chatbot.dialogue.policy import ReplyType
from chatbot.dialogue.service import ChatReply, ChatService
from chatbot.errors import NotFoundError
from chatbot.escalation.conversations import StoredReply

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# Saturday 10 October 2026, 11:00 in Berlin: the hotline is closed.
SATURDAY = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)

CITIZENSHIP_QUESTIONS = {
    "de": "Was kostet die Einbürgerung für mich und meine zwei Kinder und darf ich meinen "
          "alten Pass behalten?",
    "en": "how do i become a german citizen",
    "fr": "comment devenir allemand, il faut combien d'annees ?",
    "it": "come si richiede la cittadinanza tedesca",
    "pl": "jak dostać niemieckie obywatelstwo",
    "tr": "Alman vatandaşlığına nasıl geçerim",
    "ku": "ez çawa dibim hemwelatiyê alman?",
}


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Any]:
    from chatbot.storage import Database, upgrade_database

    url = f"sqlite:///{tmp_path / 'chat.sqlite3'}"
    upgrade_database(url)
    database = Database(url)
    with database.write_session() as session:
        yield session
    database.dispose()


@pytest.fixture
def chat(search_service: Any) -> ChatService:
    return ChatService(search_service, Composer(REPO / "prompts"), Hotline())


def say(chat: ChatService, session: Any, message: str, conversation_id: str | None = None,
        lang: str | None = None) -> ChatReply:
    return chat.reply(SqlConversationStore(session), message=message,
                      conversation_id=conversation_id, lang=lang,
                      now=SATURDAY, url_for=lambda a, lang_: f"https://x/{a}?lang={lang_}")


@pytest.mark.parametrize("lang", sorted(CITIZENSHIP_QUESTIONS))
def test_answer_in_each_language(chat: ChatService, session: Any, search_service: Any,
                                 lang: str) -> None:
    reply = say(chat, session, CITIZENSHIP_QUESTIONS[lang])
    assert reply.language.code == lang
    assert reply.type is ReplyType.ANSWER, reply.text
    assert [s.article_id for s in reply.sources] == ["einbuergerung"]
    version = search_service.index.article_versions("einbuergerung")[lang]
    assert reply.sources[0].title == version.title
    assert version.title in reply.text
    assert "lang=" + lang in reply.sources[0].url
    # the quoted section is from this language version of the article, verbatim
    section = reply.text.split("\n\n", 1)[1].rsplit("\n\n", 1)[0]
    assert section.strip()[:60] in version.body


def test_kurmanji_never_answered_in_turkish(chat: ChatService, session: Any,
                                            search_service: Any) -> None:
    for question in ("nasnama min xilas bûye ez çawa ya nû çêkim",
                     "ez nû hatime vî bajarî, divê ez di çend rojan de xwe qeyd bikim?"):
        reply = say(chat, session, question)
        assert reply.language.code == "ku"
        # Whatever the reply type, its text is Kurmanji (template and quoted article).
        assert search_service.detector.detect(reply.text).code == "ku", reply.text
        for source in reply.sources:
            version = search_service.index.article_versions(source.article_id)["ku"]
            assert source.title == version.title


def test_football_escalates_with_ticket_and_hotline(chat: ChatService, session: Any) -> None:
    reply = say(chat, session, "Who won the football world cup in 2014?")
    assert reply.type is ReplyType.ESCALATE
    kinds = [a.kind for a in reply.actions]
    assert "ticket" in kinds
    assert "hotline" in kinds
    assert reply.hotline is not None
    assert not reply.hotline.open
    assert "02151 86-0" in reply.text
    assert "on Monday, 12.10.2026 at 08:00" in reply.text


def test_human_request_escalates(chat: ChatService, session: Any) -> None:
    reply = say(chat, session, "Ich möchte mit einem Menschen sprechen")
    assert reply.type is ReplyType.ESCALATE
    assert reply.language.code == "de"
    assert {"ticket", "hotline"} <= {a.kind for a in reply.actions}


@pytest.mark.parametrize("message", ["مرحبا، كيف يمكنني تجديد جواز سفري؟",
                                     "Добрий день, як мені отримати новий паспорт?"])
def test_unsupported_language(chat: ChatService, session: Any, message: str) -> None:
    reply = say(chat, session, message)
    assert reply.type is ReplyType.UNSUPPORTED
    assert "Leider" in reply.text
    assert "Sorry" in reply.text
    assert {"hotline", "appointment"} <= {a.kind for a in reply.actions}


def test_follow_up_uses_previous_topic(chat: ChatService, session: Any) -> None:
    first = say(chat, session, "Ich brauche einen neuen Reisepass, wie beantrage ich den?")
    assert first.sources[0].article_id == "reisepass-beantragen"
    follow = say(chat, session, "Was kostet das?", first.conversation_id)
    assert follow.type is ReplyType.ANSWER, follow.text
    assert follow.sources[0].article_id == "reisepass-beantragen"
    assert follow.turn == 2


class MemoryStore:
    """A ConversationStore in a dict: the service needs nothing else from storage."""

    def __init__(self) -> None:
        self.turns: dict[str, list[tuple[str, StoredReply]]] = {}
        self.languages: dict[str, str | None] = {}

    def load(self, conversation_id: str) -> StoredConversation | None:
        if conversation_id not in self.turns:
            return None
        return StoredConversation(self.languages[conversation_id], [
            PastTurn(question, ReplyType(reply.reply_type), reply.article_id,
                     confident=reply.topic_confident)
            for question, reply in self.turns[conversation_id]])

    def record(self, *, conversation_id: str, question: str, reply: StoredReply,
               language: str | None, detected_language: str | None, now: datetime) -> None:
        self.turns.setdefault(conversation_id, []).append((question, reply))
        self.languages[conversation_id] = language


def test_the_service_needs_only_a_conversation_store(chat: ChatService) -> None:
    store = MemoryStore()

    def say_to(message: str, conversation_id: str | None = None) -> ChatReply:
        return chat.reply(store, message=message, conversation_id=conversation_id,
                          lang=None, now=SATURDAY, url_for=lambda a, lang_: f"/{a}")

    first = say_to("Ich brauche einen neuen Reisepass, wie beantrage ich den?")
    follow = say_to("Was kostet das?", first.conversation_id)
    assert (follow.turn, follow.sources[0].article_id) == (2, "reisepass-beantragen")
    assert [q for q, _ in store.turns[first.conversation_id]] == [
        "Ich brauche einen neuen Reisepass, wie beantrage ich den?", "Was kostet das?"]
    assert store.languages[first.conversation_id] == "de"
    with pytest.raises(NotFoundError):
        say_to("Und dann?", "no-such-conversation")


def test_language_sticks_for_short_messages(chat: ChatService, session: Any) -> None:
    first = say(chat, session, "Comment demander un nouveau passeport ?")
    second = say(chat, session, "merci", first.conversation_id)
    assert second.language.code == "fr"
    assert second.type is ReplyType.ANSWER
    assert not second.sources


@pytest.mark.parametrize("message", ["Hallo", "Thank you!", "Merhaba", "Spas", "Dziękuję",
                                     "Au revoir", "Grazie mille"])
def test_small_talk_without_retrieval(chat: ChatService, session: Any, message: str) -> None:
    reply = say(chat, session, message)
    assert reply.type is ReplyType.ANSWER
    assert reply.sources == []
    assert reply.text


def test_replies_are_stored_with_type_article_and_language(chat: ChatService,
                                                           session: Any) -> None:
    """What the editors' content-gap report reads back."""
    from sqlalchemy import select

    from chatbot.storage.models import ConversationMessage

    answered = say(chat, session, "Ich brauche einen neuen Reisepass, wie beantrage ich den?")
    escalated = say(chat, session, "Who won the football world cup in 2014?")
    unsupported = say(chat, session, "مرحبا، كيف يمكنني تجديد جواز سفري؟")
    stored = {
        (m.conversation_id, m.role): m
        for m in session.scalars(select(ConversationMessage))
    }
    answer = stored[(answered.conversation_id, "assistant")]
    assert (answer.reply_type, answer.article_id, answer.department) == (
        "answer", "reisepass-beantragen", "buergerservice")
    assert answer.confidence == pytest.approx(answered.confidence)
    assert stored[(answered.conversation_id, "citizen")].detected_language == "de"
    assert stored[(escalated.conversation_id, "assistant")].reply_type == "escalate"
    # The escalation's topic (the ticket's department) only when retrieval was confident.
    topic = escalated.topic
    assert stored[(escalated.conversation_id, "assistant")].department == (
        topic.department if topic else None)
    citizen = stored[(unsupported.conversation_id, "citizen")]
    assert (citizen.language, citizen.detected_language) == (None, "ar")
    assert stored[(unsupported.conversation_id, "assistant")].reply_type == (
        "unsupported_language")
