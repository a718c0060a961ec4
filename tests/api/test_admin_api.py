"""Editors' admin API: 401/403, re-index jobs in a server thread, reload, translations."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chatbot.config import Settings
from chatbot.embedding.base import Vectors
from chatbot.index import IndexStore, build_index
from tests.conftest import CORPUS_DIR, FakeClock, FakeEmbedder

ADMIN_ROUTES = [
    ("POST", "/api/v1/admin/reindex", {}),
    ("GET", "/api/v1/admin/index", None),
    ("POST", "/api/v1/admin/reload", None),
    ("GET", "/api/v1/admin/translations", None),
    ("GET", "/api/v1/admin/content-gaps", None),
    ("GET", "/api/v1/admin/content-gaps?format=csv", None),
]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for_job(client: TestClient, headers: dict[str, str], timeout: float = 120
                 ) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get("/api/v1/admin/index", headers=headers).json()["job"]
        if job["state"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_endpoints_need_an_editor_token(backoffice_client: TestClient,
                                              make_user: Callable[..., str], method: str,
                                              path: str, body: dict[str, Any] | None) -> None:
    agent = make_user("a.schmidt", "agent")
    for headers in ({}, _bearer("not-a-token"), {"Authorization": "Basic YTpi"}):
        response = backoffice_client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
    assert backoffice_client.request(method, path, json=body,
                                     headers=_bearer(agent)).status_code == 403


def test_reindex_without_a_loaded_search_is_503(backoffice_client: TestClient,
                                                make_user: Callable[..., str]) -> None:
    editor = _bearer(make_user("e.redakteur", "editor"))
    response = backoffice_client.post("/api/v1/admin/reindex", headers=editor)
    assert response.status_code == 503
    status = backoffice_client.get("/api/v1/admin/index", headers=editor).json()
    assert status["current_version"] is None
    assert status["serving_version"] is None
    assert status["job"] is None


@pytest.mark.slow
def test_reindex_job_with_the_servers_model(search_service: Any, corpus_index_dir: Path,
                                            db_url: str, clock: FakeClock,
                                            make_user: Callable[..., str]) -> None:
    """The real server wiring: the loaded model, the settings' directories, then reload.
    The corpus is unchanged, so every vector is reused and nothing is embedded."""
    settings = Settings(database_url=db_url, index_dir=corpus_index_dir, corpus_dir=CORPUS_DIR,
                        index_poll_seconds=0, auto_migrate=False)
    editor = _bearer(make_user("e.redakteur", "editor"))
    before = search_service.index.version
    try:
        reindex_through_the_api(settings, search_service, clock, editor, before)
    finally:
        # The session's index and service are shared: leave them as they were.
        IndexStore(corpus_index_dir).switch(before)
        search_service.reload()


def reindex_through_the_api(settings: Settings, search_service: Any, clock: FakeClock,
                            editor: dict[str, str], before: str) -> None:
    from chatbot.api import create_app

    with TestClient(create_app(settings, search_service=search_service, clock=clock)) as client:
        started = client.post("/api/v1/admin/reindex", headers=editor)
        assert started.status_code == 202, started.text
        assert started.json()["state"] in ("queued", "running")
        assert started.json()["requested_by"] == "e.redakteur"
        job = wait_for_job(client, editor)
        assert job["state"] == "succeeded", job
        assert job["id"] == started.json()["id"]
        assert (job["embedded_chunks"], job["reused_chunks"]) == (0, 3056)
        status = client.get("/api/v1/admin/index", headers=editor).json()
        assert status["current_version"] == status["serving_version"] == job["version"]
        assert job["version"] != before
        assert status["current"]["article_count"] == 48
        assert status["file_errors"] == []
        versions = [v["version"] for v in status["versions"]]
        assert before in versions
        assert versions[-1] == job["version"]
        hits = client.post("/api/v1/search", json={"query": "Reisepass beantragen"}).json()
        assert hits["index_version"] == job["version"]


# --- the job flow with the fake embedder: content, one-at-a-time, failures -------------


class GatedEmbedder(FakeEmbedder):
    """Blocks inside embedding until the test opens the gate: a build that is running."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        self.entered.set()
        assert self.gate.wait(30)
        return super().embed_passages(texts, show_progress=show_progress)


@pytest.fixture
def fake_server(write_article: Callable[..., Path], tmp_path: Path, db_url: str,
                clock: FakeClock) -> Iterator[tuple[TestClient, GatedEmbedder, Path]]:
    from chatbot.api import create_app
    from chatbot.language import LanguageDetector
    from chatbot.retrieval.service import SearchService

    write_article("reisepass", "de", body="## Antrag\n\nDen Reisepass beantragen Sie im Amt.")
    write_article("hund", "de", body="## Hundesteuer\n\nMelden Sie Ihren Hund an.")
    write_article("kaputt", "de", front="id: kaputt\nlang: de\n")
    embedder = GatedEmbedder()
    build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "idx"),
                embedder=embedder)
    embedder.embedded_passages.clear()
    service = SearchService(embedder=embedder, detector=LanguageDetector(),
                            index_root=tmp_path / "idx")
    settings = Settings(database_url=db_url, index_dir=tmp_path / "idx",
                        corpus_dir=tmp_path / "corpus", index_poll_seconds=0,
                        auto_migrate=False, keep_index_versions=2)
    with TestClient(create_app(settings, search_service=service, clock=clock)) as client:
        yield client, embedder, tmp_path / "corpus"
        embedder.gate.set()
        manager = getattr(client.app.state, "reindex", None)  # type: ignore[attr-defined]
        if manager is not None:
            manager.wait(30)


def test_reindex_embeds_only_the_change_and_serves_it(
        fake_server: tuple[TestClient, GatedEmbedder, Path], write_article: Callable[..., Path],
        make_user: Callable[..., str]) -> None:
    client, embedder, _corpus = fake_server
    editor = _bearer(make_user("e.redakteur", "editor"))
    status = client.get("/api/v1/admin/index", headers=editor).json()
    assert status["file_errors"] == [{"path": "amt/kaputt.de.md",
                                      "reason": "missing field(s): title, department, updated"}]
    write_article("hund", "de", body="## Hundesteuer\n\nMelden Sie Ihren Zwergpudel an.")

    assert client.post("/api/v1/admin/reindex", headers=editor,
                       json={"full": False}).status_code == 202
    job = wait_for_job(client, editor)
    assert job["state"] == "succeeded", job
    assert (job["embedded_chunks"], job["reused_chunks"], job["file_errors"]) == (1, 1, 1)
    assert embedder.embedded_passages == ["Hund\nHundesteuer\nMelden Sie Ihren Zwergpudel an."]
    hits = client.post("/api/v1/search", json={"query": "Zwergpudel", "lang": "de"}).json()
    assert hits["index_version"] == job["version"]
    assert hits["hits"][0]["article_id"] == "hund"


def test_one_reindex_at_a_time_and_progress_is_shown(
        fake_server: tuple[TestClient, GatedEmbedder, Path], make_user: Callable[..., str]
) -> None:
    client, embedder, _corpus = fake_server
    editor = _bearer(make_user("e.redakteur", "editor"))
    embedder.gate.clear()
    embedder.entered.clear()  # set by the fixture's first build
    first = client.post("/api/v1/admin/reindex", headers=editor, json={"full": True}).json()
    assert embedder.entered.wait(30)
    running = client.get("/api/v1/admin/index", headers=editor).json()["job"]
    assert (running["id"], running["state"], running["stage"]) == (first["id"], "running",
                                                                    "embedding")
    assert running["total"] == 2
    busy = client.post("/api/v1/admin/reindex", headers=editor)
    assert busy.status_code == 409
    assert busy.json()["detail"]["job_id"] == first["id"]
    embedder.gate.set()
    assert wait_for_job(client, editor)["state"] == "succeeded"
    second = client.post("/api/v1/admin/reindex", headers=editor)
    assert second.status_code == 202
    assert second.json()["id"] != first["id"]
    assert wait_for_job(client, editor)["state"] == "succeeded"
    # keep_index_versions=2: the first version was pruned.
    assert len(client.get("/api/v1/admin/index", headers=editor).json()["versions"]) == 2


def test_a_failed_reindex_reports_why_and_keeps_serving(
        fake_server: tuple[TestClient, GatedEmbedder, Path], make_user: Callable[..., str]
) -> None:
    client, _embedder, corpus = fake_server
    editor = _bearer(make_user("e.redakteur", "editor"))
    serving = client.get("/api/v1/admin/index", headers=editor).json()["serving_version"]
    for path in corpus.rglob("*.md"):
        path.write_text("no front matter\n", encoding="utf-8")
    client.post("/api/v1/admin/reindex", headers=editor)
    job = wait_for_job(client, editor)
    assert job["state"] == "failed"
    assert "no valid article" in job["error"]
    status = client.get("/api/v1/admin/index", headers=editor).json()
    assert status["current_version"] == status["serving_version"] == serving
    assert client.post("/api/v1/search", json={"query": "Hund"}).status_code == 200


def test_a_reindex_that_loses_a_german_version_is_refused_until_forced(
        fake_server: tuple[TestClient, GatedEmbedder, Path], make_user: Callable[..., str]
) -> None:
    client, _embedder, corpus = fake_server
    editor = _bearer(make_user("e.redakteur", "editor"))
    serving = client.get("/api/v1/admin/index", headers=editor).json()["serving_version"]
    hund = corpus / "amt" / "hund.de.md"
    hund.write_text(hund.read_text(encoding="utf-8").replace("title:", "titel:"),
                    encoding="utf-8")
    client.post("/api/v1/admin/reindex", headers=editor)
    job = wait_for_job(client, editor)
    assert job["state"] == "failed"
    assert job["force"] is False
    assert ("the German version of 1 article(s) is missing: hund (amt/hund.de.md: missing "
            "field(s): title)") in job["error"]
    status = client.get("/api/v1/admin/index", headers=editor).json()
    assert status["current_version"] == status["serving_version"] == serving
    assert len(status["versions"]) == 1

    client.post("/api/v1/admin/reindex", headers=editor, json={"force": True})
    job = wait_for_job(client, editor)
    assert job["state"] == "succeeded", job
    assert job["force"] is True
    status = client.get("/api/v1/admin/index", headers=editor).json()
    assert status["current_version"] == status["serving_version"] == job["version"] != serving


def test_reload_swaps_in_a_version_published_elsewhere(
        fake_server: tuple[TestClient, GatedEmbedder, Path], write_article: Callable[..., Path],
        tmp_path: Path, make_user: Callable[..., str]) -> None:
    client, _embedder, corpus = fake_server
    editor = _bearer(make_user("e.redakteur", "editor"))
    write_article("neu", "de", body="## Neu\n\nGanz neuer Artikel.")
    # Another process (`chatbot ingest`) publishes; polling is off in this app.
    result = build_index(corpus_dir=corpus, store=IndexStore(tmp_path / "idx"),
                         embedder=FakeEmbedder())
    reloaded = client.post("/api/v1/admin/reload", headers=editor).json()
    assert reloaded == {"reloaded": True, "serving_version": result.manifest.version}
    again = client.post("/api/v1/admin/reload", headers=editor).json()
    assert again == {"reloaded": False, "serving_version": result.manifest.version}


def test_translation_status(fake_server: tuple[TestClient, GatedEmbedder, Path],
                            write_article: Callable[..., Path],
                            make_user: Callable[..., str]) -> None:
    client, _embedder, _corpus = fake_server
    editor = _bearer(make_user("e.redakteur", "editor"))
    write_article("hund", "en", title="Dog", extra="")  # source_revision 2026-10-01: current
    write_article("reisepass", "en", front="id: reisepass\nlang: en\ntitle: Passport\n"
                  "department: amt\nupdated: 2026-10-02\nsource_revision: 2026-09-01\n")
    data = client.get("/api/v1/admin/translations", headers=editor).json()
    assert data["languages"] == ["de", "en", "fr", "it", "pl", "tr", "ku"]
    rows = {a["article_id"]: a for a in data["articles"]}
    assert rows["hund"]["missing"] == ["fr", "it", "pl", "tr", "ku"]
    assert rows["hund"]["stale"] == []
    assert rows["reisepass"]["stale"] == ["en"]
    assert data["file_errors"][0]["path"] == "amt/kaputt.de.md"


def test_the_editor_page(backoffice_client: TestClient) -> None:
    from chatbot.api.routes.console import SECURITY_HEADERS

    page = backoffice_client.get("/editor")
    assert page.status_code == 200
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value
    for marker in ('id="login"', 'id="reindex-form"', 'id="translation-table"',
                   "/editor/static/editor.js", "/console/static/console.css", "<th>ku</th>"):
        assert marker in page.text
    assert "<script>" not in page.text
    script = backoffice_client.get("/editor/static/editor.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in script.text
    assert "sessionStorage" in script.text
    for endpoint in ("/api/v1/admin/index", "/api/v1/admin/reindex", "/api/v1/admin/reload",
                     "/api/v1/admin/translations", "/api/v1/agent/me"):
        assert endpoint in script.text
    assert backoffice_client.get("/editor/static/other.js").status_code == 404
