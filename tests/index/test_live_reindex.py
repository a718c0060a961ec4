"""Re-indexing as users meet it, with the real model: deletions, broken files, a build
killed mid-embedding, and a serving process that switches versions under traffic."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from chatbot.errors import PublishRefusedError
from chatbot.index import IndexStore, LoadedIndex, build_index
from chatbot.index.store import POINTER
from tests.conftest import CORPUS_DIR, REPO

pytestmark = pytest.mark.slow


def copy_corpus_and_index(tmp_path: Path, corpus_index_dir: Path) -> tuple[Path, Path]:
    """A private corpus copy and a private index of it: the session's index, copied,
    so no test here pays for a full build before the one it is about."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    index = tmp_path / "idx"
    version = IndexStore(corpus_index_dir).current_version()
    assert version is not None
    shutil.copytree(corpus_index_dir / version, index / version)
    (index / POINTER).write_text(version + "\n", encoding="utf-8")
    return corpus, index


def cli_env(corpus: Path, index: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "CHATBOT_CORPUS_DIR": str(corpus), "CHATBOT_INDEX_DIR": str(index),
            **extra}


def test_deleted_article_leaves_results_and_a_broken_file_is_reported(
        tmp_path: Path, corpus_index_dir: Path, real_embedder: Any) -> None:
    from chatbot.language import LanguageDetector
    from chatbot.retrieval.service import SearchService

    corpus, index = copy_corpus_and_index(tmp_path, corpus_index_dir)
    service = SearchService(embedder=real_embedder, detector=LanguageDetector(),
                            index_root=index)
    query = "Ich habe meine Geldbörse verloren, wo ist das Fundbüro?"
    assert service.search(query, top_k=3).hits[0].article_id == "fundbuero"

    for path in corpus.glob("ordnungsamt/fundbuero.*.md"):
        path.unlink()
    (corpus / "ordnungsamt" / "kaputt.de.md").write_text("---\nid: [kaputt\n---\nText\n",
                                                         encoding="utf-8")
    # Deleting an article drops its German version: refused unless done on purpose.
    with pytest.raises(PublishRefusedError, match="missing: fundbuero"):
        build_index(corpus_dir=corpus, store=IndexStore(index), embedder=real_embedder)
    result = build_index(corpus_dir=corpus, store=IndexStore(index), embedder=real_embedder,
                         force=True)
    assert [e.path for e in result.manifest.errors] == ["ordnungsamt/kaputt.de.md"]
    assert "not valid YAML" in result.manifest.errors[0].reason
    assert result.manifest.article_count == 47
    assert result.manifest.embedded_chunks == 0  # deleting embeds nothing
    assert service.reload()
    for lang_query in (query, "I lost my wallet, where is the lost and found office?"):
        hits = service.search(lang_query, top_k=10).hits
        assert "fundbuero" not in [h.article_id for h in hits]
        assert hits  # the rest is still indexed and found


def test_a_build_killed_mid_embedding_leaves_the_index_serving(
        tmp_path: Path, corpus_index_dir: Path, real_embedder: Any) -> None:
    from chatbot.language import LanguageDetector
    from chatbot.retrieval.service import SearchService

    corpus, index = copy_corpus_and_index(tmp_path, corpus_index_dir)
    store = IndexStore(index)
    before = store.current_version()
    process = subprocess.Popen(
        [sys.executable, "-m", "chatbot.cli", "ingest", "--full"], cwd=REPO,
        env=cli_env(corpus, index), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not list(index.glob(".building-*")):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no staging directory appeared"
            time.sleep(0.05)
        # The staging directory appears before embedding starts; a --full build of
        # 3,056 chunks then embeds for about a minute, so this kill lands mid-way.
        time.sleep(2)
        assert process.poll() is None, "the build finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    [leftover] = index.glob(".building-*")
    assert not (leftover / "manifest.json").exists()

    assert store.current_version() == before
    assert store.versions() == [before]
    service = SearchService(embedder=real_embedder, detector=LanguageDetector(),
                            index_root=index)
    assert service.search("Reisepass beantragen").hits[0].article_id == "reisepass-beantragen"

    result = build_index(corpus_dir=corpus, store=store, embedder=real_embedder)
    assert store.current_version() == result.manifest.version != before
    assert not list(index.glob(".building-*"))  # the dead build's directory was pruned
    assert LoadedIndex(result.path).manifest.document_count == 336


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def post_search(base: str, query: str, timeout: float = 30) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{base}/api/v1/search", data=json.dumps({"query": query, "top_k": 3}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def test_a_serving_process_switches_versions_under_traffic(
        tmp_path: Path, corpus_index_dir: Path) -> None:
    corpus, index = copy_corpus_and_index(tmp_path, corpus_index_dir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # One client sends a search every few milliseconds: not what the rate limits are for.
    env = cli_env(corpus, index, CHATBOT_INDEX_POLL_SECONDS="0.5",
                  CHATBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}",
                  CHATBOT_RATE_LIMITS_ENABLED="false")
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "chatbot.cli", "serve", "--port", str(port)],
                              cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    statuses: Counter[int | str] = Counter()
    stop = threading.Event()

    def hammer() -> None:
        queries = ["Reisepass beantragen", "Wie melde ich meinen Hund an?",
                   "Where do I register my address?", "Sperrmüll anmelden"]
        # Bounded both ways, so a hung server cannot hang the test run.
        deadline = time.monotonic() + 240
        for i in range(5000):
            if stop.is_set() or time.monotonic() > deadline:
                return
            try:
                code, _ = post_search(base, queries[i % len(queries)])
            except OSError as exc:
                code = type(exc).__name__
            statuses[code] += 1

    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=5) as ready:
                    if ready.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        served_before = json.loads(urllib.request.urlopen(f"{base}/readyz").read())

        traffic = threading.Thread(target=hammer, daemon=True)
        traffic.start()
        article = corpus / "ordnungsamt" / "fundbuero.de.md"
        article.write_text(article.read_text(encoding="utf-8").rstrip()
                           + "\n\n## Quokkafundstelle\nAuch Quokkafundstellen nimmt das "
                             "Fundbüro entgegen.\n", encoding="utf-8")
        ingest = subprocess.run([sys.executable, "-m", "chatbot.cli", "ingest"], cwd=REPO,
                                env=env, capture_output=True, text=True, timeout=300)
        assert ingest.returncode == 0, ingest.stderr
        assert "embedded" in ingest.stdout
        new_version = IndexStore(index).current_version()
        assert new_version != served_before["index_version"]

        deadline = time.monotonic() + 60
        while True:
            code, body = post_search(base, "Quokkafundstelle")
            assert code == 200
            if body["index_version"] == new_version:
                break
            assert time.monotonic() < deadline, "the server did not switch to the new version"
            time.sleep(0.2)
        assert body["hits"][0]["article_id"] == "fundbuero"
        time.sleep(1)  # some traffic on the new version too
    finally:
        stop.set()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    traffic.join(30)
    assert not traffic.is_alive()
    assert set(statuses) == {200}, statuses
    assert statuses[200] >= 20, statuses
