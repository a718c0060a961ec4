"""Engine and session factory built from `Settings.database_url`.

Faults: a database that is down, restarting, locked or out of connections surfaces as
`DatabaseUnavailableError` from every query (the API answers 503 with Retry-After),
never as a driver error; pooled connections are pinged before use, so the service
recovers by itself once the database is back. Statement parameters (what citizens
typed, contact data) never appear in exception messages or SQL logs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, ExceptionContext, make_url
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker
from sqlalchemy.pool import NullPool, QueuePool, StaticPool

from chatbot.deadline import DEADLINE_INFO_KEY, Deadline
from chatbot.errors import DatabaseUnavailableError, RequestTimeoutError

log = logging.getLogger(__name__)

# Execution option marking a connection whose transactions must take SQLite's write
# lock up front (BEGIN IMMEDIATE). A deferred transaction that reads and then writes
# fails at once with "database is locked" when another writer got in between, instead
# of waiting for busy_timeout; IMMEDIATE makes writers queue instead.
SQLITE_IMMEDIATE = "chatbot_sqlite_immediate"
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# PostgreSQL: how long a new connection may take, and how long a request waits for a
# pooled connection when all are busy, before it is answered 503 (not queued forever).
CONNECT_TIMEOUT_SECONDS = 5
POOL_TIMEOUT_SECONDS = 10
# The readiness probe's own bound (connect and `SELECT 1`).
PROBE_TIMEOUT_SECONDS = 2


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


def make_engine(url: str | URL, *, probe: bool = False) -> Engine:
    """`probe`: a pool-less engine with short timeouts for the readiness check, which
    must not wait behind requests for a pooled connection."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed, probe=probe)
    else:
        connect_timeout = PROBE_TIMEOUT_SECONDS if probe else CONNECT_TIMEOUT_SECONDS
        if "connect_timeout" not in parsed.query:
            parsed = parsed.update_query_dict({"connect_timeout": str(connect_timeout)})
        pooling: dict[str, Any] = ({"poolclass": NullPool} if probe else
                                   {"poolclass": _QueuePool, "pool_timeout": POOL_TIMEOUT_SECONDS})
        engine = create_engine(parsed, pool_pre_ping=True, hide_parameters=True, **pooling)
    _report_unavailability(engine)
    return engine


class _QueuePool(QueuePool):
    """All connections busy for POOL_TIMEOUT_SECONDS: the database is as unavailable to
    this request as if it were down (503, the client retries later)."""

    def _do_get(self) -> Any:
        try:
            return super()._do_get()
        except sa_exc.TimeoutError as error:
            raise DatabaseUnavailableError(
                f"no database connection free within {POOL_TIMEOUT_SECONDS} s") from error


def _is_unavailability(context: ExceptionContext) -> bool:
    """Down, restarting, unreachable, locked or read-only: a fault of the database, not
    of the request. Constraint violations and other data errors are not."""
    original = context.original_exception
    return context.is_disconnect or isinstance(
        context.sqlalchemy_exception, sa_exc.OperationalError | sa_exc.InterfaceError
    ) or isinstance(original, sa_exc.OperationalError | sa_exc.InterfaceError)


def _report_unavailability(engine: Engine) -> None:
    where = describe_url(engine.url)

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # A failed pre-ping is SQLAlchemy's cue to reconnect: raising here would turn the
        # recovery itself into a 503.
        if context.is_pre_ping or not _is_unavailability(context):
            return
        reason = " ".join(str(context.original_exception).split())
        # The edges report it (the API as a warning, the CLI as its one error line).
        log.debug("database unavailable (%s): %s", where, reason)
        # SQLAlchemy still invalidates a broken connection after this is raised.
        raise DatabaseUnavailableError(f"cannot open the database {where}: {reason}")


def _sqlite_engine(url: URL, *, probe: bool = False) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    if not in_memory and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    busy_timeout = PROBE_TIMEOUT_SECONDS if probe else SQLITE_BUSY_TIMEOUT_SECONDS
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": busy_timeout},
        "hide_parameters": True,
    }
    if in_memory:
        # Every pooled connection would otherwise see its own empty database.
        kwargs["poolclass"] = StaticPool
    elif probe:
        kwargs["poolclass"] = NullPool
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
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout * 1000}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


_WROTE_INFO_KEY = "chatbot.wrote"


def _note_write(session: Session, _flush: UOWTransaction) -> None:
    session.info[_WROTE_INFO_KEY] = True


def _forget_write(session: Session) -> None:
    session.info.pop(_WROTE_INFO_KEY, None)


def _check_deadline(session: Session) -> None:
    """Before every COMMIT (and savepoint release) of a writing session that serves a
    request with a deadline: see `chatbot.deadline`. A COMMIT that stores nothing only
    stops the work of a request that was already answered. Writes are known by the
    ORM's flushes (every write path of the service stores an ORM object)."""
    deadline: Deadline | None = session.info.get(DEADLINE_INFO_KEY)
    if deadline is None:
        return
    writes = bool(session.info.get(_WROTE_INFO_KEY) or session.new or session.dirty
                  or session.deleted)
    if deadline.expired or (writes and not deadline.claim_commit()):
        raise RequestTimeoutError("the request's deadline passed before its write was "
                                  "committed; nothing was stored")


class Database:
    """One engine per process and the two kinds of session the service needs."""

    def __init__(self, url: str | URL) -> None:
        self.engine = make_engine(url)
        self._url = url
        self._probe: Engine | None = None
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(
            self.engine.execution_options(**{SQLITE_IMMEDIATE: True}), expire_on_commit=False
        )
        event.listen(self._writer, "after_flush", _note_write)
        event.listen(self._writer, "before_commit", _check_deadline)
        event.listen(self._writer, "after_commit", _forget_write)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        """For requests that only read."""
        return self._reader()

    def write_session(self) -> Session:
        """For requests that write: on SQLite its transactions hold the write lock."""
        return self._writer()

    def ping(self) -> None:
        """`SELECT 1` on a connection of its own (never one a request is waiting for),
        bounded by PROBE_TIMEOUT_SECONDS; raises DatabaseUnavailableError."""
        if self.engine.pool.__class__ is StaticPool:
            probe = self.engine  # an in-memory SQLite database exists only in its pool
        else:
            if self._probe is None:
                self._probe = make_engine(self._url, probe=True)
            probe = self._probe
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        if self._probe is not None:
            self._probe.dispose()
