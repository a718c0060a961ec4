"""`chatbot serve --workers N`: real worker processes on one port, told apart by the `pid`
of their JSON log lines; SIGTERM stops them all with exit code 0; bad counts and a
worker that cannot start end with an exit code, not a silent or endless loop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatbot.api.workers import prepare_environment, worker_threads, worker_warnings
from chatbot.config import Settings
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "CHATBOT_LOAD_SEARCH": "false", "CHATBOT_INDEX_POLL_SECONDS": "0",
            "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
            "CHATBOT_INDEX_DIR": str(tmp_path / "indexes"), **extra}


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone once nobody is left to reap it.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def probe(base: str) -> int | None:
    try:
        return httpx.get(f"{base}/no-such-page", timeout=5).status_code
    except httpx.TransportError:
        return None


@pytest.mark.slow
def test_two_workers_share_the_port_and_stop_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        # The port comes from the CLI option, CHATBOT_PORT says another: the workers must
        # listen where the option says.
        server = subprocess.Popen(
            [sys.executable, "-m", "chatbot.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "2"],
            cwd=REPO, env=serve_env(tmp_path, CHATBOT_PORT=str(free_port())),
            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        pids: set[int] = set()
        while len(pids) < 2:
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, (
                f"only workers {pids} answered:\n{log_path.read_text()}")
            # Concurrent requests on fresh connections, so that both workers accept some.
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(lambda _: probe(base), range(8)))
            assert set(statuses) <= {404, None}
            time.sleep(0.05)
            pids = {e["pid"] for e in json_lines(log_path.read_text())
                    if e["logger"] == "chatbot.access"}
        assert server.pid not in pids  # the supervisor itself serves nothing
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    entries = json_lines(log_path.read_text())
    workers = {e["pid"] for e in entries if e["message"] == "worker started"}
    assert len(workers) == 2
    assert pids == workers
    finished = {e["pid"] for e in entries if e["message"].startswith("Finished server process")}
    assert finished == workers  # each worker shut down its app, none was killed
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived the server"
        time.sleep(0.1)
    start = next(e for e in entries if e["logger"] == "chatbot.serve"
                 and e["message"].startswith("starting 2 workers"))
    assert start["pid"] == server.pid
    assert any("CHATBOT_REDIS_URL" in e["message"] for e in entries
               if e["level"] == "WARNING" and e["pid"] == server.pid)


@pytest.mark.slow
def test_a_worker_that_cannot_start_stops_the_server_with_an_exit_code(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chatbot.cli", "serve", "--port", str(free_port()),
         "--workers", "2"],
        cwd=REPO, env=serve_env(tmp_path, CHATBOT_PROMPTS_DIR=str(tmp_path / "missing")),
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    assert "error: a worker failed to start" in result.stderr


@pytest.mark.parametrize("count", ["0", "65", "two"])
def test_a_bad_worker_count_is_refused(count: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chatbot.cli", "serve", "--workers", count],
        cwd=REPO, env=serve_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--workers" in result.stderr
    assert not (tmp_path / "serve.sqlite3").exists()  # nothing started


def test_workers_split_half_the_cores_between_them() -> None:
    assert worker_threads(1, cores=16) == 8  # what one process takes alone
    assert worker_threads(4, cores=16) == 2
    assert worker_threads(3, cores=16) == 2
    assert worker_threads(2, cores=2) == 1  # never less than one
    assert worker_threads(64, cores=2) == 1


def test_the_workers_environment_carries_the_cli_address_and_threads() -> None:
    env: dict[str, str] = {}
    settings = Settings(host="0.0.0.0", port=9001)
    threads = prepare_environment(settings, 4, env)
    assert env == {"CHATBOT_HOST": "0.0.0.0", "CHATBOT_PORT": "9001",
                   "CHATBOT_COMPUTE_THREADS": str(threads)}
    assert threads == worker_threads(4)
    # The operator's choice stands.
    assert prepare_environment(Settings(compute_threads=3), 4, env) == 3
    assert env["CHATBOT_COMPUTE_THREADS"] == "3"


def test_per_process_state_is_named_at_start_up() -> None:
    sqlite = Settings(database_url="sqlite:///x.sqlite3", redis_url=None,
                      index_poll_seconds=0)
    assert worker_warnings(sqlite, 1) == []
    said = " ".join(worker_warnings(sqlite, 2))
    assert "CHATBOT_REDIS_URL" in said
    assert "CHATBOT_INDEX_POLL_SECONDS=0" in said
    assert "SQLite" in said
    assert "/metrics" in said
    shared = Settings(database_url="postgresql+psycopg://h/db", redis_url="redis://h:6379/0",
                      index_poll_seconds=5)
    assert ["/metrics" in w for w in worker_warnings(shared, 2)] == [True]
