"""Migration 0006 (outbox, access codes, citizens' answers) on a database that already
holds a ticket with its history, up and down, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from chatbot.storage import make_engine
from chatbot.storage.migrate import alembic_config

T = "'2026-10-05 06:00:00+00:00'"
HASH = "'" + "a" * 64 + "'"


def test_0006_keeps_ticket_histories_and_allows_citizens_answers(db_url: str) -> None:
    engine = make_engine(db_url)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
            assert "outbox" not in inspect(connection).get_table_names()
            connection.execute(text(
                "INSERT INTO tickets (id, reference, access_token_hash, token_salt, "
                "request_fingerprint, status, department, message, contact_email, "
                f"preferred_language, consent_at, created_at, updated_at) VALUES (1, 'KR-1', "
                f"{HASH}, {HASH}, {HASH}, 'open', 'allgemein', 'Frage', 'e@example.org', "
                f"'de', {T}, {T}, {T})"))
            connection.execute(text(
                "INSERT INTO ticket_events (ticket_id, kind, to_status, actor_name, created_at)"
                f" VALUES (1, 'created', 'open', 'citizen', {T})"))
            command.upgrade(config, "0006_outbox")
            tables = set(inspect(connection).get_table_names())
            assert {"outbox", "ticket_access_codes"} <= tables
            assert connection.execute(text("SELECT kind FROM ticket_events")).all() == [
                ("created",)]
            connection.execute(text(
                "INSERT INTO ticket_events (ticket_id, kind, body, actor_name, created_at) "
                f"VALUES (1, 'citizen_reply', 'Danke', 'citizen', {T})"))
            # The rebuilt CHECK keeps the kind 0006_agent_routing added before it.
            connection.execute(text(
                "INSERT INTO ticket_events (ticket_id, kind, body, actor_name, created_at) "
                f"VALUES (1, 'assigned', NULL, 'a.schmidt', {T})"))
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(text(
                    "INSERT INTO ticket_events (ticket_id, kind, actor_name, created_at) "
                    f"VALUES (1, 'gossip', 'citizen', {T})"))
            connection.execute(text(
                "INSERT INTO outbox (ticket_id, kind, base_url, state, attempts, "
                f"next_attempt_at, created_at) VALUES (1, 'reply', 'https://x', 'pending', 0, "
                f"{T}, {T})"))
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(text("UPDATE outbox SET state = 'lost'"))
            # Down: the citizens' answers go (the old CHECK would refuse them), the rest stays.
            command.downgrade(config, "0006_agent_routing")
            assert "outbox" not in inspect(connection).get_table_names()
            assert connection.execute(text(
                "SELECT kind FROM ticket_events ORDER BY id")).all() == [
                ("created",), ("assigned",)]
            command.downgrade(config, "0005")
            assert "outbox" not in inspect(connection).get_table_names()
            assert connection.execute(text("SELECT kind FROM ticket_events")).all() == [
                ("created",)]
            command.upgrade(config, "head")
            connection.execute(text(
                "INSERT INTO outbox (ticket_id, kind, base_url, state, attempts, "
                f"next_attempt_at, created_at) VALUES (1, 'status', 'https://x', 'sent', 1, "
                f"{T}, {T})"))
            # Purging a ticket takes its notifications and history along.
            connection.execute(text("DELETE FROM tickets WHERE id = 1"))
            assert connection.execute(text("SELECT count(*) FROM outbox")).scalar() == 0
            assert connection.execute(text("SELECT count(*) FROM ticket_events")).scalar() == 0
    finally:
        engine.dispose()
