"""Relational storage: engine and sessions, declarative models, Alembic migrations.

SQLite (a file, WAL mode) is the default so a single process needs no server;
`CHATBOT_DATABASE_URL=postgresql+psycopg://...` selects PostgreSQL for replicas.
"""

from chatbot.storage.engine import Database, make_engine
from chatbot.storage.migrate import current_revision, migrate, upgrade_database

__all__ = ["Database", "current_revision", "make_engine", "migrate", "upgrade_database"]
