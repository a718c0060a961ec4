"""Migration 0008 (defect reports) down and up again on SQLite and PostgreSQL, with its
location rule as a database constraint."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from chatbot.storage import make_engine
from chatbot.storage.migrate import alembic_config

T = "'2026-10-05 06:00:00+00:00'"
COLUMNS = ("reference, access_token_hash, service_code, description, address_string, lat, "
           "lon, language, consent_at, created_at, state, attempts, next_attempt_at")


def _insert(connection: object, reference: str, address: str, lat: str, lon: str) -> None:
    connection.execute(text(  # type: ignore[attr-defined]
        f"INSERT INTO defect_reports ({COLUMNS}) VALUES ('{reference}', '{reference * 16}', "
        f"'SL', 'Lampe aus', {address}, {lat}, {lon}, 'de', {T}, {T}, 'pending', 0, {T})"))


def test_0008_down_and_up_and_the_location_rule(db_url: str) -> None:
    engine = make_engine(db_url)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0007_index_replicas")
            assert "defect_reports" not in inspect(connection).get_table_names()
            command.upgrade(config, "0008_open311")
            assert "defect_reports" in inspect(connection).get_table_names()
            _insert(connection, "MD-1", "'Ostwall 1'", "NULL", "NULL")
            _insert(connection, "MD-2", "NULL", "51.3", "6.5")
            with pytest.raises(IntegrityError), connection.begin_nested():
                _insert(connection, "MD-3", "NULL", "51.3", "NULL")
            assert connection.execute(text(
                "SELECT count(*) FROM defect_reports")).scalar() == 2
            connection.execute(text("DELETE FROM defect_reports"))
    finally:
        engine.dispose()
