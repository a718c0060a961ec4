"""Memory per worker of `chatbot serve --workers N` with the bundled model and the
served index (README, Performance: "Workers").

    python -m chatbot.benchmarks.workers [--workers 2] [--requests 200] [--json FILE]

Starts the server with rate limits off, waits until every worker has completed its
start-up (their JSON log lines carry their pid), sends `POST /api/v1/search` at
concurrency 8 until every worker has answered at least 20 searches (the warm-up that
fills lazily built caches), checks that each worker loaded the index exactly once,
then reads each worker's resident memory (VmRSS) and peak
(VmHWM) from /proc, and the supervisor's. The throughput of that load is printed too,
but it is a warm-up on a shared machine, not a benchmark (see `suite.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chatbot.benchmarks.search_latency import QUERIES, free_port
from chatbot.benchmarks.suite import http_load, rss_mb

PER_WORKER_WARMUP = 20


def log_entries(path: Path) -> list[dict[str, Any]]:
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
    return entries


def measure(workers: int, requests: int, index_dir: Path | None,
            work: Path) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ,
           "CHATBOT_DATABASE_URL": f"sqlite:///{work / 'workers.sqlite3'}",
           "CHATBOT_INDEX_POLL_SECONDS": "0",
           # One client address sends everything: rate limits would refuse most of it.
           "CHATBOT_RATE_LIMITS_ENABLED": "false"}
    if index_dir is not None:
        env["CHATBOT_INDEX_DIR"] = str(index_dir)
    log_path = work / "serve.log"
    started = time.monotonic()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "chatbot.cli", "serve", "--port", str(port),
             "--workers", str(workers)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        ready: set[int] = set()
        while len(ready) < workers:
            if server.poll() is not None:
                raise SystemExit(f"server exited with {server.returncode}; see {log_path}")
            if time.monotonic() - started > 600:
                raise SystemExit(f"workers not ready after 600 s; see {log_path}")
            time.sleep(0.5)
            ready = {e["pid"] for e in log_entries(log_path)
                     if e.get("message") == "Application startup complete."}
        startup_seconds = round(time.monotonic() - started, 1)
        bodies = [json.dumps({"query": q}).encode() for q in QUERIES]
        sent = 0
        load_seconds = 0.0
        served: Counter[int] = Counter()
        while min((served[pid] for pid in ready), default=0) < PER_WORKER_WARMUP:
            if sent >= 20 * requests:
                raise SystemExit(f"some worker never answered: {dict(served)}")
            t0 = time.perf_counter()
            row = asyncio.run(http_load(port, "/api/v1/search", bodies, 8, requests, 30.0))
            load_seconds += time.perf_counter() - t0
            sent += requests
            if row["errors"]:
                raise SystemExit(f"errors during the warm-up: {row['statuses']}")
            served = Counter(e["pid"] for e in log_entries(log_path)
                             if e.get("logger") == "chatbot.access")
        # Each worker loads the model and the index once, at start-up.
        loads = Counter(e["pid"] for e in log_entries(log_path)
                        if str(e.get("message", "")).startswith("serving index version"))
        if loads != Counter(dict.fromkeys(ready, 1)):
            raise SystemExit(f"index loads per worker: {dict(loads)}; see {log_path}")
        return {
            "workers": workers,
            "startup_seconds": startup_seconds,
            "searches": sent,
            "searches_per_worker": {str(pid): served[pid] for pid in sorted(ready)},
            "warmup_throughput_rps": round(sent / load_seconds, 1),
            "worker_rss_mb": [rss_mb(pid) for pid in sorted(ready)],
            "worker_peak_rss_mb": [rss_mb(pid, "VmHWM") for pid in sorted(ready)],
            "supervisor_rss_mb": rss_mb(server.pid) if workers > 1 else None,
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "torch_threads_per_worker": next(
                (e.get("compute_threads") for e in log_entries(log_path)
                 if e.get("message") == "worker started"), None),
        }
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=96, help="searches per load round")
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="default: CHATBOT_INDEX_DIR / the configured index")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        result = measure(args.workers, args.requests, args.index_dir, Path(tmp))
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
