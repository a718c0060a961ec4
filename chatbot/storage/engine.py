"""Engine and session factory built from `Settings.database_url`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

# Execution option marking a connection whose transactions must take SQLite's write
# lock up front (BEGIN IMMEDIATE). A deferred transaction that reads and then writes
# fails at once with "database is locked" when another writer got in between, instead
# of waiting for busy_timeout; IMMEDIATE makes writers queue instead.
SQLITE_IMMEDIATE = "chatbot_sqlite_immediate"
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def normalise_url(url: str | URL) -> URL:
    parsed = make_url(url)
    # Plain `postgresql://` would mean psycopg2, which is not installed: the project
    # ships psycopg 3, so an operator's usual URL works as written.
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def describe_url(url: str | URL) -> str:
    """The URL for messages and logs, without its password."""
    return normalise_url(url).render_as_string(hide_password=True)


def make_engine(url: str | URL) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    if not in_memory and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    }
    if in_memory:
        # Every pooled connection would otherwise see its own empty database.
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (the driver's
        # implicit BEGIN is always DEFERRED and skips DDL).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # NORMAL is durable across application crashes in WAL mode; only a power
                # loss can roll back the last transactions.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """One engine per process and the two kinds of session the service needs."""

    def __init__(self, url: str | URL) -> None:
        self.engine = make_engine(url)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(
            self.engine.execution_options(**{SQLITE_IMMEDIATE: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        """For requests that only read."""
        return self._reader()

    def write_session(self) -> Session:
        """For requests that write: on SQLite its transactions hold the write lock."""
        return self._writer()

    def dispose(self) -> None:
        self.engine.dispose()
