"""Upgrade the database schema to the newest Alembic revision shipped in the package.

Called by the app's start-up, `chatbot db upgrade` and `make install`. Safe to run from
several replicas at once: the upgrade holds a database-wide lock (PostgreSQL advisory
lock, SQLite write lock), so the later ones find the schema current and do nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from chatbot.config import Settings
from chatbot.errors import DatabaseUnavailableError
from chatbot.storage.engine import SQLITE_IMMEDIATE, describe_url, make_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Arbitrary but fixed: every replica must contend for the same advisory lock.
_PG_MIGRATION_LOCK = 4_711_2026


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations shipped in the package")
    return head


def upgrade_database(url: str | URL) -> str:
    """Upgrade to head and return the revision the database is now at."""
    engine = make_engine(url)
    try:
        return _upgrade(engine)
    except OperationalError as exc:
        raise DatabaseUnavailableError(
            f"cannot open the database {describe_url(url)}: {_one_line(exc.orig)}") from exc
    finally:
        engine.dispose()


def _upgrade(engine: Engine) -> str:
    with engine.execution_options(**{SQLITE_IMMEDIATE: True}).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _PG_MIGRATION_LOCK})
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        revision = MigrationContext.configure(connection).get_current_revision()
    return revision or ""


def _one_line(error: BaseException | None) -> str:
    return " ".join(str(error).split())


def migrate(settings: Settings) -> str:
    return upgrade_database(settings.database_url)


def current_revision(url: str | URL) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise DatabaseUnavailableError(
            f"cannot open the database {describe_url(url)}: {_one_line(exc.orig)}") from exc
    finally:
        engine.dispose()
