"""Engine, types and migrations, on SQLite and on the PostgreSQL test server."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from chatbot.errors import DatabaseUnavailableError
from chatbot.storage import Database, current_revision, make_engine, upgrade_database
from chatbot.storage.engine import normalise_url
from chatbot.storage.migrate import head_revision
from chatbot.storage.models import Base, Conversation


def test_migrations_create_exactly_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(
                connection, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_upgrade_is_repeatable_and_reports_head(db_url: str) -> None:
    assert upgrade_database(db_url) == head_revision()
    assert upgrade_database(db_url) == head_revision()
    assert current_revision(db_url) == head_revision()


def test_datetimes_come_back_aware_in_utc(database: Database) -> None:
    berlin_summer = timezone(timedelta(hours=2))
    written = datetime(2026, 10, 5, 8, 0, tzinfo=berlin_summer)
    with database.write_session() as session:
        session.add(Conversation(id="c1", created_at=written, last_activity_at=written))
        session.commit()
    with database.session() as session:
        stored = session.scalars(select(Conversation.created_at)).one()
    assert stored == written
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored.hour == 6


def test_naive_datetimes_are_refused(database: Database) -> None:
    with database.write_session() as session:
        session.add(Conversation(id="c1", created_at=datetime(2026, 1, 1),
                                 last_activity_at=datetime(2026, 1, 1, tzinfo=UTC)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'sub' / 'db.sqlite3'}")  # parent is created
    try:
        with database.session() as session:
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        database.dispose()


def test_sqlite_write_sessions_hold_the_write_lock_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    database = Database(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with database.session() as reader:
            reader.execute(text("SELECT 1"))
            other.execute("BEGIN IMMEDIATE")  # a reading transaction does not block writers
            other.execute("ROLLBACK")
        with database.write_session() as writer:
            writer.execute(text("SELECT 1"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        database.dispose()


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///x.sqlite3").drivername == "sqlite"


def test_an_unreachable_server_is_one_clean_error_without_the_password() -> None:
    url = "postgresql+psycopg://someone:secret@127.0.0.1:1/nothing?connect_timeout=2"
    with pytest.raises(DatabaseUnavailableError) as raised:
        upgrade_database(url)
    message = str(raised.value)
    assert "secret" not in message
    assert "\n" not in message
    assert message.startswith("cannot open the database postgresql+psycopg://someone:***@")
