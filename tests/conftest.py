"""Shared fixtures. The real embedding model and the real corpus index are built
once per test session; unit tests use the deterministic `FakeEmbedder`."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chatbot.config import Settings
from chatbot.embedding.base import Vectors

REPO = Path(__file__).resolve().parent.parent
CORPUS_DIR = REPO / "knowledge_corpus"
SHARED_DATA = REPO.parent / "shared" / "data"

# Debian's Chromium for browser tests; Playwright never downloads a browser here.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# A missing browser fails the browser tests with the install command; only this
# explicit opt-out skips them (a machine that cannot have Chromium).
SKIP_BROWSER_TESTS = os.environ.get("CHATBOT_SKIP_BROWSER_TESTS") == "1"
# Pictures the tests take go here (ignored by git); `make screenshots` copies the
# README's into web_widget/screenshots/.
ARTIFACTS = REPO / "test-artifacts"


def require_chromium() -> str:
    """The Chromium binary, or a clear failure saying how to install it."""
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed: `apt-get install chromium` "
                    "(or set CHATBOT_SKIP_BROWSER_TESTS=1 to skip the browser tests)")
    return CHROMIUM


browser_tests = pytest.mark.skipif(SKIP_BROWSER_TESTS,
                                   reason="CHATBOT_SKIP_BROWSER_TESTS=1")
# Without the background-networking flags Chromium keeps dialling Google's hosts,
# which this offline machine refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class FakeEmbedder:
    """Bag-of-words hashed into a fixed space: similar words, similar vectors.

    Deterministic and fast, for testing the logic around the model; it counts
    what it embeds so tests can check what was re-embedded.
    """

    def __init__(self, model_id: str = "fake-embedder", dimension: int = 64) -> None:
        self._model_id = model_id
        self._dimension = dimension
        self.embedded_passages: list[str] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    def _vector(self, text: str) -> np.ndarray:  # type: ignore[type-arg]
        vector = np.zeros(self._dimension, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "little") % self._dimension] += 1.0
        vector[0] += 0.01  # never the zero vector
        return vector / np.linalg.norm(vector)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return np.array([self._vector(t) for t in texts], dtype=np.float32)

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        self.embedded_passages.extend(texts)
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(
            len(texts), self._dimension)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def write_article(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write `<dept>/<id>.<lang>.md` below tmp_path/corpus with sensible defaults."""

    def write(article_id: str = "reisepass", lang: str = "de", *, department: str = "amt",
              title: str | None = None, body: str = "## Antrag\n\nDen Pass beantragen Sie "
              "persönlich.", extra: str = "", front: str | None = None) -> Path:
        path = tmp_path / "corpus" / department / f"{article_id}.{lang}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        revision = "" if lang == "de" else "source_revision: 2026-10-01\n"
        meta = front if front is not None else (
            f"id: {article_id}\nlang: {lang}\ntitle: {title or article_id.title()}\n"
            f"department: {department}\nupdated: 2026-10-01\n{revision}{extra}"
        )
        path.write_text(f"---\n{meta}---\n{body}\n", encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def model_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the real bundled model, prepared (offline) if missing."""
    from chatbot.embedding.bundled import prepare_bundled_model

    settings = Settings()
    prepare_bundled_model(settings)
    return settings


@pytest.fixture(scope="session")
def real_embedder(model_settings: Settings):  # type: ignore[no-untyped-def]
    from chatbot.embedding import load_embedder

    return load_embedder(model_settings)


@pytest.fixture(scope="session")
def corpus_index_dir(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:  # type: ignore[no-untyped-def]
    """The project's knowledge corpus indexed with the real model, once per session."""
    from chatbot.index import IndexStore, build_index

    root = tmp_path_factory.mktemp("corpus-index")
    build_index(corpus_dir=CORPUS_DIR, store=IndexStore(root), embedder=real_embedder)
    return root


@pytest.fixture(scope="session")
def search_service(real_embedder, corpus_index_dir: Path):  # type: ignore[no-untyped-def]
    from chatbot.language import LanguageDetector
    from chatbot.retrieval.service import SearchService

    return SearchService(embedder=real_embedder, detector=LanguageDetector(),
                         index_root=corpus_index_dir)


@pytest.fixture
def search_client(search_service, corpus_index_dir: Path, tmp_path: Path) -> Iterator[object]:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from chatbot.api import create_app

    settings = Settings(index_dir=corpus_index_dir, index_poll_seconds=0,
                        database_url=f"sqlite:///{tmp_path / 'api.sqlite3'}")
    with TestClient(create_app(settings, search_service=search_service)) as client:
        yield client


# --- escalation back office: databases (SQLite and PostgreSQL), clock, API client ---------

POSTGRES_TEST_URL = os.environ.get("CHATBOT_TEST_POSTGRES_URL",
                                   "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Monday 5 October 2026, 08:00 in Berlin: a working day, no holiday, offices just opened.
FIXED_NOW = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)


class FakeClock:
    """The back office's clock in tests: fixed until a test moves it."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def _libpq_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_unavailable(url: str = POSTGRES_TEST_URL) -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when a server answers."""
    import psycopg

    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return (f"no PostgreSQL server answers at CHATBOT_TEST_POSTGRES_URL={url} "
                f"({' '.join(str(exc).split())})")


@contextmanager
def fresh_postgres_schema(url: str = POSTGRES_TEST_URL, label: str = "t") -> Iterator[str]:
    """A new, empty schema, and a URL whose connections use it; dropped afterwards.

    A schema per run keeps concurrent test runs (developers, CI) on one server apart.
    """
    import secrets

    import psycopg
    from sqlalchemy.engine import make_url

    schema = f"chatbot_{label}_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield make_url(url).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="session")
def postgres_url() -> str:
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    return POSTGRES_TEST_URL


@pytest.fixture(scope="session")
def postgres_migrated_url(postgres_url: str) -> Iterator[str]:
    from chatbot.storage import upgrade_database

    with fresh_postgres_schema(postgres_url, "session") as url:
        upgrade_database(url)
        yield url


def _empty_postgres_tables(url: str) -> None:
    from sqlalchemy import text

    from chatbot.storage import make_engine
    from chatbot.storage.models import Base

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: a SQLite file, then the PostgreSQL test server."""
    from chatbot.storage import upgrade_database

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'backoffice.sqlite3'}"
        upgrade_database(url)
        return url
    url: str = request.getfixturevalue("postgres_migrated_url")
    _empty_postgres_tables(url)
    return url


@pytest.fixture
def database(db_url: str):  # type: ignore[no-untyped-def]
    from chatbot.storage import Database

    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def calendars():  # type: ignore[no-untyped-def]
    from chatbot.escalation.calendars import load_calendars

    return load_calendars()


@pytest.fixture
def backoffice_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, load_search=False, index_poll_seconds=0,
                    index_dir=tmp_path / "indexes")


@pytest.fixture
def backoffice_client(backoffice_settings: Settings, clock: FakeClock):  # type: ignore[no-untyped-def]
    """The app without the search model, on `db_url`, with the fake clock."""
    from fastapi.testclient import TestClient

    from chatbot.api import create_app

    with TestClient(create_app(backoffice_settings, clock=clock)) as client:
        yield client


@pytest.fixture
def make_user(database, clock: FakeClock) -> Callable[..., str]:  # type: ignore[no-untyped-def]
    """Create an agent or editor and return its bearer token."""
    from chatbot.escalation.users import add_user

    def make(name: str = "a.schmidt", role: str = "agent", **serves: list[str]) -> str:
        with database.write_session() as session:
            return add_user(session, name=name, role=role, now=clock(), **serves)[1]

    return make


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def serve_in_thread(app: object, port: int | None = None) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on loopback (a free port unless given); yields its
    base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,  # type: ignore[arg-type]
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def widget_page(browser: Any, api: str, locale: str = "de-DE") -> Iterator[Any]:
    """A fresh browser context on the service's demo page at `api` (it embeds the
    widget), closed afterwards."""
    context = browser.new_context(locale=locale, timezone_id="Europe/Berlin")
    try:
        page = context.new_page()
        page.goto(api + "/")
        yield page
    finally:
        context.close()
