"""Migration 0006 (agent routing) on a database that already holds a ticket and a
user, up and down, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from chatbot.storage import make_engine
from chatbot.storage.migrate import alembic_config

NOW = "'2026-10-05 06:00:00+00:00'"


def _columns(connection: object, table: str) -> set[str]:
    return {c["name"] for c in inspect(connection).get_columns(table)}


def test_0006_keeps_tickets_and_users_and_records_assignments(db_url: str) -> None:
    engine = make_engine(db_url)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
            assert "assignee_user_id" not in _columns(connection, "tickets")
            connection.execute(text(
                "INSERT INTO users (name, role, token_hash, created_at) "
                f"VALUES ('a.schmidt', 'agent', 'h1', {NOW})"))
            connection.execute(text(
                "INSERT INTO tickets (reference, access_token_hash, token_salt, "
                "request_fingerprint, status, department, message, preferred_language, "
                "consent_at, created_at, updated_at) VALUES ('KR-2026-000001', 'a', 's', "
                f"'f', 'open', 'wohngeld', 'Frage', 'tr', {NOW}, {NOW}, {NOW})"))
            connection.execute(text(
                "INSERT INTO ticket_events (ticket_id, kind, to_status, actor_name, "
                f"created_at) VALUES (1, 'created', 'open', 'citizen', {NOW})"))
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(text(
                    "INSERT INTO ticket_events (ticket_id, kind, actor_name, created_at) "
                    f"VALUES (1, 'assigned', 'a.schmidt', {NOW})"))

            command.upgrade(config, "0006_agent_routing")
            assert connection.execute(text("SELECT kind FROM ticket_events")).all() == [
                ("created",)]
            assert {"departments", "languages"} <= _columns(connection, "users")
            assert {"assignee_user_id", "assigned_at"} <= _columns(connection, "tickets")
            assert connection.execute(text(
                "SELECT departments, languages FROM users")).one() == (None, None)
            connection.execute(text(
                f"UPDATE tickets SET assignee_user_id = 1, assigned_at = {NOW}"))
            connection.execute(text(
                "INSERT INTO ticket_events (ticket_id, kind, body, actor_name, created_at) "
                f"VALUES (1, 'assigned', 'a.schmidt', 'a.schmidt', {NOW})"))
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(text("UPDATE ticket_events SET kind = 'robot'"))
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(text("UPDATE tickets SET assignee_user_id = 99"))
            # Removing the user keeps the ticket, unassigned.
            connection.execute(text("DELETE FROM users"))
            assert connection.execute(text(
                "SELECT reference, assignee_user_id FROM tickets")).one() == (
                "KR-2026-000001", None)

            command.downgrade(config, "0005")
            assert "assignee_user_id" not in _columns(connection, "tickets")
            assert connection.execute(text("SELECT kind FROM ticket_events")).all() == [
                ("created",)]
            command.upgrade(config, "head")
    finally:
        engine.dispose()
