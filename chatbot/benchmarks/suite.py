"""The benchmark suite (`make bench`): every figure next to the floor measured in the
same run, printed as Markdown tables and written as JSON.

    python -m chatbot.benchmarks.suite [--quick] [--json FILE] [--parts floor,http,ingest,scale]

- floor: the bare query encode plus a FAISS search of the served index, in process;
  in-process search (the two-stage path and the exhaustive one) beside it.
- http: `POST /api/v1/search` and `POST /api/v1/chat` over loopback against a
  `chatbot serve` process, at concurrency 1, 8 and 32, with this module's asyncio
  client (one keep-alive connection per concurrent client, in this process, not the
  server's): p50, p95, p99, throughput, errors (non-2xx, timeouts, broken connections)
  and the server's peak RSS (VmHWM). At the highest concurrency the same load also
  runs against a server without micro-batching (CHATBOT_ENCODE_BATCHING=false).
- ingest: a full build of the corpus with the real model: passages per second, size
  on disk (`--ingest-articles N` builds only the first N article versions).
- scale: synthetic indexes (clustered random unit vectors, generated text) of 3k to
  1M chunks: search p50/p95 excluding the encode, exhaustive vs the shipped path,
  memory, recall@10 of the approximate vector search against exact, and the cost at
  the largest size relative to 3k.

`--quick` runs fewer requests and queries and skips the 1M corpus.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatbot.benchmarks.search_latency import QUERIES, free_port, percentile, wait_ready

FULL_SIZES = (3_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (3_000, 10_000, 100_000)
CONCURRENCY = (1, 8, 32)


@dataclass
class Report:
    meta: dict[str, Any] = field(default_factory=dict)
    floor: dict[str, float] = field(default_factory=dict)
    in_process: list[dict[str, Any]] = field(default_factory=list)
    http: list[dict[str, Any]] = field(default_factory=list)
    ingest: dict[str, Any] = field(default_factory=dict)
    scale: list[dict[str, Any]] = field(default_factory=list)
    scale_ratio: dict[str, float] = field(default_factory=dict)


def latency_summary(millis: Sequence[float]) -> dict[str, float]:
    values = list(millis)
    if not values:
        return {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    return {"n": len(values), "p50_ms": round(statistics.median(values), 2),
            "p95_ms": round(percentile(values, 0.95), 2),
            "p99_ms": round(percentile(values, 0.99), 2)}


def timed(fn: Callable[[int], object], count: int, warmup: int = 1) -> list[float]:
    for i in range(warmup):
        fn(i)
    out = []
    for i in range(count):
        start = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def rss_mb(pid: int | str = "self", field_name: str = "VmRSS") -> float:
    """Resident (VmRSS) or peak resident (VmHWM) memory of a process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


# --- floor and in-process search -------------------------------------------------------


def measure_floor(service: Any, queries: list[str], count: int, report: Report) -> None:
    from chatbot.retrieval.service import SearchService

    index = service.index
    embedder = getattr(service.embedder, "inner", service.embedder)

    def floor(i: int) -> object:
        vector = embedder.embed_queries([queries[i % len(queries)]])
        return index.vectors.search(vector, 20)

    report.floor = latency_summary(timed(floor, count))
    exhaustive = SearchService(embedder=embedder, detector=service.detector,
                               index_root=service.store.root, profile=service.profile,
                               exhaustive=True)
    two_stage = SearchService(embedder=embedder, detector=service.detector,
                              index_root=service.store.root, profile=service.profile,
                              two_stage_min_chunks=0)
    for name, searcher in (("two-stage", two_stage), ("exhaustive", exhaustive)):
        row = latency_summary(timed(_searching(searcher, queries), count))
        report.in_process.append({"path": name, **row})


def _searching(service: Any, queries: list[str]) -> Callable[[int], object]:
    return lambda i: service.search(queries[i % len(queries)])


# --- HTTP load --------------------------------------------------------------------------


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str,
                   body: bytes, port: int) -> int:
    writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1:"
                 + str(port).encode() + b"\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length, close = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection" and "close" in value.lower():
            close = True
    await reader.readexactly(length)
    if close:
        raise ConnectionResetError("server closed the connection")
    return status


async def http_load(port: int, path: str, bodies: list[bytes], concurrency: int,
                    total: int, timeout: float) -> dict[str, Any]:
    """`total` requests from `concurrency` clients, each on its own keep-alive connection."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    next_request = iter(range(total))

    async def client() -> None:
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for i in next_request:
            start = time.perf_counter()
            try:
                if connection is None:
                    connection = await asyncio.open_connection("127.0.0.1", port)
                status = await asyncio.wait_for(
                    _request(*connection, path, bodies[i % len(bodies)], port), timeout)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                key = "timeout" if isinstance(exc, TimeoutError) else "connection"
                statuses[key] = statuses.get(key, 0) + 1
                if connection is not None:
                    connection[1].close()
                connection = None
                continue
            latencies.append((time.perf_counter() - start) * 1000)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        if connection is not None:
            connection[1].close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    ok = sum(n for s, n in statuses.items() if s.startswith("2"))
    return {"concurrency": concurrency, "requests": total, **latency_summary(latencies),
            "throughput_rps": round(ok / elapsed, 2), "errors": total - ok,
            "statuses": statuses}


def _bodies(kind: str) -> list[bytes]:
    if kind == "search":
        return [json.dumps({"query": q}).encode() for q in QUERIES]
    return [json.dumps({"message": q}).encode() for q in QUERIES]


def start_server(index_dir: Path, work: Path, *, batching: bool,
                 extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ,
           "CHATBOT_INDEX_DIR": str(index_dir),
           "CHATBOT_DATABASE_URL": f"sqlite:///{work / f'bench-{port}.sqlite3'}",
           "CHATBOT_INDEX_POLL_SECONDS": "0",
           # One client address sends everything: rate limits would refuse most of it.
           "CHATBOT_RATE_LIMITS_ENABLED": "false",
           "CHATBOT_ENCODE_BATCHING": "true" if batching else "false",
           **(extra_env or {})}
    server = subprocess.Popen([sys.executable, "-m", "chatbot.cli", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_ready(port)
    except BaseException:
        server.terminate()
        server.wait(timeout=30)
        raise
    return server, port


def measure_http(index_dir: Path, work: Path, *, concurrency: Sequence[int], requests: int,
                 timeout: float, report: Report,
                 extra_env: dict[str, str] | None = None) -> None:
    for batching in (True, False):
        levels = concurrency if batching else [max(concurrency)]
        server, port = start_server(index_dir, work, batching=batching, extra_env=extra_env)
        try:
            for kind in ("search", "chat") if batching else ("search",):
                bodies = _bodies(kind)
                # Warm-up: the first requests load lazily built caches.
                asyncio.run(http_load(port, f"/api/v1/{kind}", bodies, 1, 3, timeout))
                for level in levels:
                    total = max(requests, 2 * level)
                    row = asyncio.run(http_load(port, f"/api/v1/{kind}", bodies, level,
                                                total, timeout))
                    report.http.append({"endpoint": f"/api/v1/{kind}",
                                        "batching": batching, **row})
            peak = rss_mb(server.pid, "VmHWM")
            for row in report.http:
                if row["batching"] == batching:
                    row["server_peak_rss_mb"] = peak
        finally:
            server.terminate()
            server.wait(timeout=30)


# --- ingestion --------------------------------------------------------------------------


def measure_ingest(corpus_dir: Path, work: Path, embedder: Any, chunk_chars: int,
                   limit: int | None, report: Report) -> Path:
    from chatbot.corpus import load_corpus
    from chatbot.index import IndexStore
    from chatbot.index.builder import build_index_from_articles

    loaded = load_corpus(corpus_dir)
    articles = loaded.articles[:limit] if limit else loaded.articles
    store = IndexStore(work / "ingest")
    started = time.perf_counter()
    result = build_index_from_articles(articles=articles, issues=[], source_hash="bench",
                                       store=store, embedder=embedder,
                                       chunk_chars=chunk_chars, full=True, keep_versions=1)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in result.path.rglob("*") if p.is_file())
    report.ingest = {"articles": len(articles), "passages": result.manifest.chunk_count,
                     "seconds": round(seconds, 1),
                     "passages_per_second": round(result.manifest.chunk_count / seconds, 1),
                     "index_mb": round(size / 1e6, 1), "full_corpus": limit is None}
    return store.root


# --- synthetic scale --------------------------------------------------------------------


LANGS = ("de", "en", "fr", "it", "pl", "tr", "ku")
CHUNKS_PER_DOCUMENT = 5


def synthetic_index(root: Path, chunks: int, *, dimension: int = 384, seed: int = 0,
                    ann_min_chunks: int | None = None) -> tuple[Path, Any]:
    """An index version of about `chunks` chunks: articles in 7 language versions of 5
    chunks each, on topics (a vector centre and a word list each). Returns its path
    and a query generator (text, vector, language) near a random chunk."""
    from datetime import UTC, date, datetime

    import faiss
    import numpy as np

    from chatbot import __version__
    from chatbot.corpus import Article, Chunk
    from chatbot.index import IndexStore, vector_index
    from chatbot.index.builder import _write_index
    from chatbot.index.manifest import IndexManifest
    from chatbot.index.store import MANIFEST

    rng = np.random.default_rng(seed)
    articles_n = max(1, chunks // (CHUNKS_PER_DOCUMENT * len(LANGS)))
    topics_n = max(4, articles_n // 4)
    centres = _unit(rng.standard_normal((topics_n, dimension)).astype(np.float32))
    lang_offsets = 0.5 * _unit(rng.standard_normal((len(LANGS), dimension)).astype(np.float32))
    topic_of = rng.integers(0, topics_n, articles_n)
    words = np.array([f"w{i}" for i in range(20_000)])
    topic_words = rng.integers(0, len(words), (topics_n, 12))
    count = articles_n * len(LANGS) * CHUNKS_PER_DOCUMENT
    article_index = np.repeat(np.arange(articles_n), len(LANGS) * CHUNKS_PER_DOCUMENT)
    lang_index = np.tile(np.repeat(np.arange(len(LANGS)), CHUNKS_PER_DOCUMENT), articles_n)
    vectors = np.empty((count, dimension), dtype=np.float32)
    for start in range(0, count, 100_000):
        stop = min(count, start + 100_000)
        noise = rng.standard_normal((stop - start, dimension)).astype(np.float32)
        vectors[start:stop] = _unit(centres[topic_of[article_index[start:stop]]]
                                    + lang_offsets[lang_index[start:stop]]
                                    + 0.9 * noise / np.sqrt(dimension))
    general = rng.zipf(1.3, (count, 20)) % len(words)
    own = topic_words[topic_of[article_index][:, None], rng.integers(0, 12, (count, 6))]
    texts = [" ".join(words[np.r_[g, o]]) for g, o in zip(general, own, strict=True)]
    stamp = date(2026, 1, 1)
    articles = [Article(id=f"a{a}", lang=lang, title=f"{words[topic_words[topic_of[a], 0]]} {a}",
                        department="bench", updated=stamp, body="", path=f"a{a}.{lang}.md")
                for a in range(articles_n) for lang in LANGS]
    chunk_list = [Chunk(article_id=f"a{article_index[i]}", lang=LANGS[lang_index[i]],
                        position=i % CHUNKS_PER_DOCUMENT, heading="", text=texts[i],
                        passage=texts[i], lexical=texts[i]) for i in range(count)]
    store = IndexStore(root)
    staging = store.staging_dir()
    info = vector_index.choose(count, **({} if ann_min_chunks is None
                                         else {"ann_min_chunks": ann_min_chunks}))
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # the build may use every core
    try:
        _write_index(staging, articles, chunk_list, vectors, info)
    finally:
        faiss.omp_set_num_threads(1)
    manifest = IndexManifest(
        version="v1", model_id="synthetic", dimension=dimension, corpus_hash="synthetic",
        article_count=articles_n, document_count=len(articles), chunk_count=count,
        languages=dict.fromkeys(LANGS, articles_n), chunk_chars=600,
        embedded_chunks=count, reused_chunks=0, vector_index=info,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"), build_seconds=0.0,
        package_version=__version__)
    (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    path = store.publish(staging, "v1")
    query_rng = np.random.default_rng(seed + 1)

    def query() -> tuple[str, Any, str]:
        row = int(query_rng.integers(0, count))
        vector = _unit(vectors[row:row + 1] + 1.0 * query_rng.standard_normal(
            (1, dimension)).astype(np.float32) / np.sqrt(dimension))[0]
        terms = " ".join(words[topic_words[topic_of[article_index[row]]][:3]])
        return terms, vector, LANGS[lang_index[row]]

    return path, query


def _unit(matrix: Any) -> Any:
    import numpy as np

    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


class NullEmbedder:
    """The scale benchmark searches with given vectors; nothing is encoded."""

    def __init__(self, dimension: int) -> None:
        self._dimension = dimension

    @property
    def model_id(self) -> str:
        return "synthetic"

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_queries(self, texts: Sequence[str]) -> Any:
        raise NotImplementedError("the scale benchmark passes query vectors")

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> Any:
        raise NotImplementedError("the scale benchmark passes chunk vectors")


def measure_scale(sizes: Sequence[int], work: Path, queries: int, report: Report,
                  ann_min_chunks: int | None = None) -> None:
    from chatbot.embedding.bundled import bundled_model_id
    from chatbot.model_profile import load_model_profile

    ranker = load_model_profile(bundled_model_id()).ranker
    for size in sizes:
        root = work / f"scale-{size}"
        shutil.rmtree(root, ignore_errors=True)
        try:
            row = _scale_row(root, size, queries, ranker, ann_min_chunks)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        report.scale.append(row)
        # Printed as it comes: the largest sizes take long on a busy machine.
        print(json.dumps(row), flush=True)
    if len(report.scale) >= 2:
        small, large = report.scale[0], report.scale[-1]
        report.scale_ratio = {
            "chunks": large["chunks"] / small["chunks"],
            "shipped_p50_ratio": round(large["shipped"]["p50_ms"]
                                       / max(small["shipped"]["p50_ms"], 1e-6), 2),
            "exhaustive_p50_ratio": round(large["exhaustive"]["p50_ms"]
                                          / max(small["exhaustive"]["p50_ms"], 1e-6), 2)}


def _scale_row(root: Path, size: int, queries: int, ranker: Any,
               ann_min_chunks: int | None) -> dict[str, Any]:
    import numpy as np

    from chatbot.index import LoadedIndex
    from chatbot.index.vector_index import exact_search_params
    from chatbot.retrieval.hybrid import HybridRetriever

    started = time.perf_counter()
    path, make_query = synthetic_index(root, size, ann_min_chunks=ann_min_chunks)
    build_seconds = time.perf_counter() - started
    before = rss_mb()
    index = LoadedIndex(path)
    memory = rss_mb() - before
    embedder = NullEmbedder(index.manifest.dimension)
    shipped = HybridRetriever(index, embedder, ranker)
    exhaustive = HybridRetriever(index, embedder, ranker, exhaustive=True)
    sample = [make_query() for _ in range(queries)]
    # The exhaustive path at 100k chunks and more takes long: fewer queries.
    exhaustive_sample = sample[: max(5, queries // 4)] if size >= 100_000 else sample

    def search(retriever: HybridRetriever, items: list[Any]) -> Callable[[int], object]:
        return lambda i: retriever.search_embedded(items[i][0], items[i][1],
                                                    query_lang=items[i][2])

    def faiss_floor(i: int) -> object:
        return index.vectors.search(sample[i][1].reshape(1, -1), 20)

    floor = timed(faiss_floor, len(sample))
    fast = timed(search(shipped, sample), len(sample))
    slow = timed(search(exhaustive, exhaustive_sample), len(exhaustive_sample))
    params = exact_search_params(index.vectors)
    recall = 1.0
    if params is not None:
        found = []
        for _, vector, _ in sample:
            query = vector.reshape(1, -1).astype(np.float32)
            _, approximate = index.vectors.search(query, 10)
            _, exact = index.vectors.search(query, 10, params=params)
            found.append(len(set(approximate[0]) & set(exact[0])) / 10)
        recall = float(np.mean(found))
    return {"chunks": index.manifest.chunk_count,
            "vector_index": index.manifest.vector_index.kind,
            "build_seconds": round(build_seconds, 1), "index_memory_mb": round(memory, 1),
            "faiss_floor": latency_summary(floor), "shipped": latency_summary(fast),
            "exhaustive": latency_summary(slow), "recall_at_10": round(recall, 3)}


# --- output -----------------------------------------------------------------------------


def tables(report: Report) -> str:
    floor = report.floor.get("p50_ms", 0.0) or 0.0
    lines = [f"{report.meta.get('started')}: {report.meta.get('cpus')} CPUs, load average "
             f"{report.meta.get('load_average')}, torch threads when serving "
             f"{report.meta.get('torch_threads_serving')}"]

    def times_floor(value: float) -> str:
        return f"{value / floor:.2f}x" if floor else "-"

    if report.floor:
        lines += ["", f"Floor (bare encode + FAISS top-20, in process; index "
                      f"{report.meta.get('index_chunks')} chunks):",
                  "| measurement | n | p50 ms | p95 ms | p50 / floor |", "|---|---|---|---|---|",
                  f"| floor | {report.floor['n']} | {report.floor['p50_ms']} | "
                  f"{report.floor['p95_ms']} | 1.00x |"]
        lines += [f"| SearchService.search, {r['path']} | {r['n']} | {r['p50_ms']} | "
                  f"{r['p95_ms']} | {times_floor(r['p50_ms'])} |" for r in report.in_process]
    if report.http:
        lines += ["", "HTTP over loopback (asyncio client, keep-alive):",
                  "| endpoint | batching | concurrency | requests | p50 ms | p95 ms | p99 ms | "
                  "p50 / floor | req/s | errors | server peak RSS MB |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['endpoint']} | {'on' if r['batching'] else 'off'} | "
                  f"{r['concurrency']} | {r['requests']} | {r['p50_ms']} | {r['p95_ms']} | "
                  f"{r['p99_ms']} | {times_floor(r['p50_ms'])} | {r['throughput_rps']} | "
                  f"{r['errors']} | {r.get('server_peak_rss_mb', '-')} |" for r in report.http]
    if report.ingest:
        i = report.ingest
        lines += ["", "Ingestion (full build, real model):",
                  "| articles | passages | seconds | passages/s | index MB |",
                  "|---|---|---|---|---|",
                  f"| {i['articles']} | {i['passages']} | {i['seconds']} | "
                  f"{i['passages_per_second']} | {i['index_mb']} |"]
    if report.scale:
        lines += ["", "Synthetic scale (search excluding the encode, in process):",
                  "| chunks | vector index | FAISS top-20 p50 ms | two-stage p50 ms | "
                  "two-stage p95 ms | exhaustive p50 ms | exhaustive p95 ms | recall@10 | "
                  "index memory MB | build s |", "|---|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['chunks']:,} | {r['vector_index']} | {r['faiss_floor']['p50_ms']} | "
                  f"{r['shipped']['p50_ms']} | {r['shipped']['p95_ms']} | "
                  f"{r['exhaustive']['p50_ms']} | {r['exhaustive']['p95_ms']} | "
                  f"{r['recall_at_10']} | {r['index_memory_mb']} | {r['build_seconds']} |"
                  for r in report.scale]
        if report.scale_ratio:
            ratio = report.scale_ratio
            lines += [f"Cost at {report.scale[-1]['chunks']:,} vs {report.scale[0]['chunks']:,} "
                      f"chunks ({ratio['chunks']:.0f}x the chunks): shipped "
                      f"{ratio['shipped_p50_ratio']}x, exhaustive {ratio['exhaustive_p50_ratio']}x"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="fewer requests and queries; no 1M-chunk corpus")
    parser.add_argument("--parts", default="floor,http,ingest,scale")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--sizes", default=None, help="synthetic sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=None, help="queries per measurement")
    parser.add_argument("--requests", type=int, default=None, help="HTTP requests per level")
    parser.add_argument("--concurrency", default=",".join(map(str, CONCURRENCY)))
    parser.add_argument("--timeout", type=float, default=10.0, help="HTTP client timeout, s")
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="the index to serve; default: CHATBOT_INDEX_DIR if it has a "
                             "version, else the one the ingest part builds")
    parser.add_argument("--ingest-articles", type=int, default=None,
                        help="build only this many article versions (default: all)")
    parser.add_argument("--ann-min-chunks", type=int, default=None,
                        help="synthetic indexes: the approximate-index threshold")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment of the served process, e.g. "
                             "CHATBOT_MODEL_MAX_ACTIVE=16 (repeatable)")
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    server_env = dict(item.split("=", 1) for item in args.server_env)
    parts = set(args.parts.split(","))
    sizes = ([int(s) for s in args.sizes.split(",") if s] if args.sizes
             else list(QUICK_SIZES if args.quick else FULL_SIZES))
    queries = args.queries or (30 if args.quick else 100)
    requests = args.requests or (48 if args.quick else 192)
    concurrency = [int(c) for c in args.concurrency.split(",") if c]
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="chatbot-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    from chatbot.config import get_settings
    from chatbot.embedding.sentence_transformer import configure_threads
    from chatbot.index import IndexStore

    settings = get_settings()
    report = Report(meta={"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                          "cpus": os.cpu_count(),
                          "load_average": [round(x, 2) for x in os.getloadavg()],
                          "torch_threads_serving": configure_threads(settings.compute_threads),
                          "quick": args.quick, "client": "asyncio keep-alive (this module)"})
    index_dir = args.index_dir or settings.index_dir
    service = None
    if parts & {"floor", "ingest", "http"}:
        from chatbot.retrieval.service import SearchService

        if "ingest" in parts or IndexStore(index_dir).current_version() is None:
            import torch

            from chatbot.embedding import load_embedder

            # As `chatbot ingest` builds: every core.
            torch.set_num_threads(settings.compute_threads or os.cpu_count() or 1)
            built = measure_ingest(settings.corpus_dir, work, load_embedder(settings),
                                   settings.chunk_chars, args.ingest_articles, report)
            configure_threads(settings.compute_threads)
            if IndexStore(index_dir).current_version() is None:
                index_dir = built
        service = SearchService.from_settings(
            settings.model_copy(update={"index_dir": index_dir}))
        assert service.index is not None
        report.meta["index_chunks"] = service.index.manifest.chunk_count
    if "floor" in parts and service is not None:
        measure_floor(service, QUERIES, queries, report)
    if "http" in parts:
        report.meta["server_env"] = server_env
        measure_http(index_dir, work, concurrency=concurrency, requests=requests,
                     timeout=args.timeout, report=report, extra_env=server_env)
    if "scale" in parts:
        measure_scale(sizes, work, queries, report, ann_min_chunks=args.ann_min_chunks)
    print(tables(report))
    args.json.write_text(json.dumps(report.__dict__, indent=2, default=str), encoding="utf-8")
    print(f"\nJSON: {args.json}")
    if args.work_dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return report


if __name__ == "__main__":
    main()
