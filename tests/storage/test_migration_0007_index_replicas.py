"""Migration 0007 (index versions shared by replicas), up and down, on SQLite and
PostgreSQL, with the constraints that keep the designation consistent."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from chatbot.storage import make_engine
from chatbot.storage.migrate import alembic_config

T = "'2026-10-05 06:00:00+00:00'"
TABLES = {"index_versions", "index_version_blobs", "index_current", "index_replicas"}


def add_version(connection, name: str) -> None:  # type: ignore[no-untyped-def]
    connection.execute(text(
        "INSERT INTO index_versions (version, model_id, manifest, content_sha256, size, "
        f"parts, created_at, published_by) VALUES ('{name}', 'm', '{{}}', '{'a' * 64}', 3, 1, "
        f"{T}, 'test')"))
    connection.execute(text("INSERT INTO index_version_blobs (version, seq, data) "
                            f"VALUES ('{name}', 0, :data)"), {"data": b"abc"})


def test_0007_up_and_down(db_url: str) -> None:
    engine = make_engine(db_url)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006_ics_tokens")
            assert not TABLES & set(inspect(connection).get_table_names())
            command.upgrade(config, "head")
            assert set(inspect(connection).get_table_names()) >= TABLES
            add_version(connection, "v1")
            add_version(connection, "v2")
            connection.execute(text("INSERT INTO index_current (id, version, generation, "
                                    f"set_at, set_by) VALUES (1, 'v1', 1, {T}, 'test')"))
            # One designation only, and never of a version that is not published.
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(text("INSERT INTO index_current (id, version, generation, "
                                        f"set_at, set_by) VALUES (2, 'v2', 1, {T}, 'test')"))
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(text("UPDATE index_current SET version = 'v9'"))
            # The designated version cannot be deleted; another one goes with its parts.
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(text("DELETE FROM index_versions WHERE version = 'v1'"))
            connection.execute(text("DELETE FROM index_versions WHERE version = 'v2'"))
            assert connection.execute(text(
                "SELECT version FROM index_version_blobs")).all() == [("v1",)]
            command.downgrade(config, "0006_ics_tokens")
            assert not TABLES & set(inspect(connection).get_table_names())
            command.upgrade(config, "head")
    finally:
        engine.dispose()
