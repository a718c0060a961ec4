"""Index versions on every machine: two real `chatbot serve` processes with separate
index directories on one PostgreSQL database, the real model, a small corpus.

An editor's re-index through server A is served by both within the poll interval
(plus the time to download and load it), under search traffic on both, with no failed
request; both report in with the version they serve.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from chatbot.escalation.users import add_user
from chatbot.index import IndexStore
from chatbot.index.distribution import DatabaseVersions
from chatbot.storage import Database, upgrade_database
from tests.api.test_replicas_concurrency import _stop, _wait_until_healthy
from tests.conftest import CORPUS_DIR, REPO, free_port, fresh_postgres_schema

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

POLL_SECONDS = 1.0
# Fetching, verifying and loading a small version, on a machine shared with other work.
MARGIN_SECONDS = 20.0
ARTICLES = ("ordnungsamt/fundbuero", "ordnungsamt/bewohnerparkausweis")
QUERIES = ("Ich habe meine Geldbörse verloren", "Bewohnerparkausweis beantragen",
           "Where is the lost and found office?", "Quokkafundstelle")


def small_corpus(target: Path) -> Path:
    for article in ARTICLES:
        for path in CORPUS_DIR.glob(f"{article}.*.md"):
            destination = target / path.relative_to(CORPUS_DIR)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, destination)
    return target


def wait_ready(base: str, timeout: float = 120) -> str:
    """The version the server serves once it is ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{base}/readyz", timeout=5)
            if response.status_code == 200:
                version: str = response.json()["index_version"]
                return version
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{base} did not become ready")


@pytest.fixture
def cluster(postgres_url: str, tmp_path: Path) -> Iterator[dict[str, object]]:
    corpus = small_corpus(tmp_path / "corpus")
    with fresh_postgres_schema(postgres_url, "idxreplicas") as db_url:
        upgrade_database(db_url)
        base_env = {**os.environ, "CHATBOT_DATABASE_URL": db_url,
                    "CHATBOT_CORPUS_DIR": str(corpus),
                    "CHATBOT_INDEX_POLL_SECONDS": str(POLL_SECONDS),
                    # One client searching without pause: not what the limits are for.
                    "CHATBOT_RATE_LIMITS_ENABLED": "false"}
        # The first version: built on A's machine with the CLI, which publishes it.
        ingest = subprocess.run([sys.executable, "-m", "chatbot.cli", "ingest"], cwd=REPO,
                                env={**base_env, "CHATBOT_INDEX_DIR": str(tmp_path / "a")},
                                capture_output=True, text=True, timeout=600)
        assert ingest.returncode == 0, ingest.stderr
        assert "published" in ingest.stdout
        processes: list[subprocess.Popen[bytes]] = []
        try:
            ports = [free_port(), free_port()]
            logs = [tmp_path / "serve-a.log", tmp_path / "serve-b.log"]
            for name, port, log in zip("ab", ports, logs, strict=True):
                # b starts with an empty index directory of its own.
                env = {**base_env, "CHATBOT_INDEX_DIR": str(tmp_path / name),
                       "CHATBOT_REPLICA_ID": f"replica-{name}"}
                with log.open("wb") as out:
                    processes.append(subprocess.Popen(
                        [sys.executable, "-m", "chatbot.cli", "serve", "--host", "127.0.0.1",
                         "--port", str(port)], cwd=REPO, env=env, stdout=out,
                        stderr=subprocess.STDOUT))
            for process, port, log in zip(processes, ports, logs, strict=True):
                _wait_until_healthy(process, port, log)
            yield {"db_url": db_url, "corpus": corpus, "root": tmp_path, "logs": logs,
                   "bases": [f"http://127.0.0.1:{port}" for port in ports]}
        finally:
            for process in processes:
                _stop(process)


def test_a_reindex_through_one_replica_is_served_by_both(cluster: dict[str, object]) -> None:
    db_url, corpus, root = str(cluster["db_url"]), Path(str(cluster["corpus"])), Path(
        str(cluster["root"]))
    bases: list[str] = cluster["bases"]  # type: ignore[assignment]
    logs: list[Path] = cluster["logs"]  # type: ignore[assignment]
    first = IndexStore(root / "a").current_version()
    assert first is not None
    # B had nothing: it fetched the published version into its own directory.
    assert [wait_ready(base) for base in bases] == [first, first]
    assert IndexStore(root / "b").current_version() == first

    database = Database(db_url)
    try:
        with database.write_session() as session, session.begin():
            token = add_user(session, name="e.editor", role="editor", now=datetime.now(UTC))[1]
        versions = DatabaseVersions(database)

        statuses: Counter[int | str] = Counter()
        served: dict[str, list[tuple[float, str]]] = {base: [] for base in bases}
        stop = threading.Event()

        def traffic() -> None:
            with httpx.Client(timeout=30) as client:
                i = 0
                deadline = time.monotonic() + 300  # bounded: a hung server cannot hang us
                while not stop.is_set() and time.monotonic() < deadline:
                    base = bases[i % 2]
                    try:
                        response = client.post(f"{base}/api/v1/search",
                                               json={"query": QUERIES[i % len(QUERIES)],
                                                     "top_k": 3})
                        statuses[response.status_code] += 1
                        if response.status_code == 200:
                            served[base].append((time.monotonic(),
                                                 response.json()["index_version"]))
                    except httpx.HTTPError as exc:
                        statuses[type(exc).__name__] += 1
                    i += 1

        thread = threading.Thread(target=traffic, daemon=True)
        thread.start()
        try:
            time.sleep(1)
            article = corpus / "ordnungsamt" / "fundbuero.de.md"
            article.write_text(article.read_text(encoding="utf-8").rstrip()
                               + "\n\n## Quokkafundstelle\nAuch Quokkafundstellen nimmt das "
                                 "Fundbüro entgegen.\n", encoding="utf-8")
            headers = {"Authorization": f"Bearer {token}"}
            started = httpx.post(f"{bases[0]}/api/v1/admin/reindex", headers=headers,
                                 json={}, timeout=30)
            assert started.status_code == 202, started.text
            deadline = time.monotonic() + 300
            while True:
                job = httpx.get(f"{bases[0]}/api/v1/admin/index", headers=headers,
                                timeout=30).json()["job"]
                if job["state"] in ("succeeded", "failed"):
                    break
                assert time.monotonic() < deadline, job
                time.sleep(0.2)
            published_at = time.monotonic()
            assert job["state"] == "succeeded", job
            new = job["version"]
            assert new != first
            current = versions.current()
            assert current is not None
            assert current.version == new
            assert current.set_by == "e.editor on replica-a"

            # Both serve it within the poll interval (plus fetching and loading).
            limit = published_at + POLL_SECONDS + MARGIN_SECONDS
            for base in bases:
                while not any(v == new for _, v in served[base]):
                    assert time.monotonic() < limit, (
                        f"{base} still serves {served[base][-1:]}; logs:\n"
                        + "\n".join(log.read_text(errors="replace")[-3000:] for log in logs))
                    time.sleep(0.1)
            time.sleep(2)  # traffic on the new version too
        finally:
            stop.set()
            thread.join(60)
        assert not thread.is_alive()
        assert set(statuses) == {200}, statuses
        assert statuses[200] >= 20, statuses
        switched = {base: next(t for t, v in served[base] if v == new) - published_at
                    for base in bases}
        print(f"served the new version after {switched} s; {statuses[200]} searches")
        for base in bases:
            # Once switched, never back to the old version.
            after = [v for t, v in served[base] if t >= published_at + switched[base]]
            assert set(after) == {new}
        hit = httpx.post(f"{bases[1]}/api/v1/search",
                         json={"query": "Quokkafundstelle", "top_k": 3}, timeout=30).json()
        assert hit["index_version"] == new
        assert hit["hits"][0]["article_id"] == "fundbuero"
        # B fetched it into its own directory; A built it.
        assert IndexStore(root / "b").current_version() == new
        assert (root / "b" / new / "manifest.json").is_file()

        # Both report in with the version they serve.
        deadline = time.monotonic() + 10 * POLL_SECONDS
        while True:
            reported = {r.replica_id: r.serving_version for r in versions.replicas()}
            if reported == {"replica-a": new, "replica-b": new}:
                break
            assert time.monotonic() < deadline, reported
            time.sleep(0.2)
        listed = subprocess.run([sys.executable, "-m", "chatbot.cli", "index", "list"],
                                cwd=REPO, capture_output=True, text=True, timeout=120,
                                env={**os.environ, "CHATBOT_DATABASE_URL": db_url,
                                     "CHATBOT_INDEX_DIR": str(root / "b")})
        assert listed.returncode == 0, listed.stderr
        assert f"current on every replica: {new}" in listed.stdout
        rows = [line.split() for line in listed.stdout.splitlines()
                if line[2:].startswith("replica-")]
        assert [(r[1], r[2]) for r in rows] == [("replica-a", new), ("replica-b", new)]
    finally:
        database.dispose()
