"""Search latency, next to its floor measured in the same run.

    python -m chatbot.benchmarks.search_latency [--queries N] [--port P]

Measures, over the same queries against the current index:
- floor: the bare model encode plus a FAISS inner-product search;
- in-process: `SearchService.search` (language detection, dense + lexical scoring,
  ranking, fusion per article);
- HTTP: `POST /api/v1/search` against a `chatbot serve` process on loopback;
- CLI: one `chatbot search` process, cold (model load included), a few times.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable

QUERIES = [
    "Wie beantrage ich einen Reisepass?",
    "I lost my ID card, what now?",
    "Comment inscrire mon adresse après un déménagement ?",
    "Quanto costa la carta d'identità?",
    "Jak zarejestrować samochód?",
    "Köpek vergisi ne kadar?",
    "Ez çawa dikarim pasaportê bistînim?",
    "Sperrmüll anmelden",
    "Wohngeld beantragen welche Unterlagen",
    "Führerschein umschreiben ausländisch",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[str], object], queries: list[str]) -> list[float]:
    fn(queries[0])  # warm-up
    out = []
    for query in queries:
        start = time.perf_counter()
        fn(query)
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(name: str, millis: list[float]) -> None:
    print(f"| {name} | {len(millis)} | {statistics.median(millis):.1f} | "
          f"{percentile(millis, 0.95):.1f} |")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=200, help="queries per measurement")
    parser.add_argument("--cli-runs", type=int, default=3)
    args = parser.parse_args()

    import faiss

    from chatbot.config import get_settings
    from chatbot.retrieval.service import SearchService

    settings = get_settings()
    service = SearchService.from_settings(settings)
    index = service.index
    if index is None:
        sys.exit("no index: run `chatbot ingest` first")
    queries = (QUERIES * (args.queries // len(QUERIES) + 1))[: args.queries]
    flat = index.vectors
    assert isinstance(flat, faiss.Index)

    def floor(query: str) -> object:
        vector = service.embedder.embed_queries([query])
        return flat.search(vector, 20)

    print(f"index {index.version}: {index.manifest.chunk_count} chunks; "
          f"{os.cpu_count()} CPUs; torch threads {torch_threads()}")
    print("| measurement | n | p50 ms | p95 ms |\n|---|---|---|---|")
    report("floor: model encode + FAISS search", timed(floor, queries))
    report("SearchService.search (in process)", timed(lambda q: service.search(q), queries))

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "chatbot.cli", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        # One client sends every query: the per-client rate limits would refuse most of
        # them, and this measures latency, not the limits.
        env={**os.environ, "CHATBOT_INDEX_POLL_SECONDS": "0",
             "CHATBOT_RATE_LIMITS_ENABLED": "false"})
    try:
        wait_ready(port)

        def http(query: str) -> object:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/search",
                data=json.dumps({"query": query}).encode(),
                headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.read()

        report("POST /api/v1/search (HTTP, loopback)", timed(http, queries))
    finally:
        server.terminate()
        server.wait(timeout=30)

    cli = []
    for query in QUERIES[: args.cli_runs]:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "chatbot.cli", "search", query, "--json"],
                       check=True, capture_output=True)
        cli.append((time.perf_counter() - start) * 1000)
    report("`chatbot search` (new process, model load included)", cli)


def wait_ready(port: int, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("server did not become ready")


def torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


if __name__ == "__main__":
    main()
