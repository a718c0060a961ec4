"""Migration 0003 (reply metadata) on a database that already holds conversations,
up and down, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from chatbot.storage import make_engine
from chatbot.storage.migrate import alembic_config

NEW_COLUMNS = {"detected_language", "reply_type", "article_id", "department", "confidence"}


def _columns(connection: object) -> set[str]:
    return {c["name"] for c in inspect(connection).get_columns("conversation_messages")}


def test_0003_keeps_existing_messages_and_checks_reply_types(db_url: str) -> None:
    engine = make_engine(db_url)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
            assert not NEW_COLUMNS & _columns(connection)
            connection.execute(text(
                "INSERT INTO conversations (id, language, created_at, last_activity_at) "
                "VALUES ('c1', 'de', '2026-10-05 06:00:00+00:00', '2026-10-05 06:00:00+00:00')"))
            connection.execute(text(
                "INSERT INTO conversation_messages (conversation_id, role, text, language, "
                "created_at) VALUES ('c1', 'citizen', 'Hallo', 'de', "
                "'2026-10-05 06:00:00+00:00')"))
            command.upgrade(config, "0003")
            assert _columns(connection) >= NEW_COLUMNS
            row = connection.execute(text(
                "SELECT text, reply_type, department FROM conversation_messages")).one()
            assert tuple(row) == ("Hallo", None, None)
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(text("UPDATE conversation_messages SET reply_type = 'maybe'"))
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(text("UPDATE conversation_messages SET role = 'robot'"))
            connection.execute(text("UPDATE conversation_messages SET reply_type = 'escalate'"))
            command.downgrade(config, "0002")
            assert connection.execute(text("SELECT text FROM conversation_messages")).all() == [
                ("Hallo",)]
            command.upgrade(config, "head")
    finally:
        engine.dispose()
