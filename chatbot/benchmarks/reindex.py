"""Index build times: a full build, and a re-index after one article changed.

    python -m chatbot.benchmarks.reindex [--corpus DIR] [--omos-pages FILE]

Works on copies in a temporary directory (the corpus and the served index are not
touched) with the configured embedding model, loaded once. For the project's corpus
one German article gets a new paragraph; for the OMoS-QA pages
(`../shared/data/omos_qa/pages.jsonl`, read in place) one page does. A re-index
embeds only the chunks whose text changed, so its time is mostly the fixed cost of
chunking, hashing, writing the vectors and rebuilding BM25.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from chatbot.config import get_settings
from chatbot.corpus import Article
from chatbot.embedding import load_embedder
from chatbot.embedding.base import Embedder
from chatbot.index import BuildResult, IndexStore, build_index
from chatbot.index.builder import build_index_from_articles

EXTRA = "\n\n## Hinweis\nDieser Absatz wurde für die Messung der Neuindexierung ergänzt.\n"


def row(name: str, seconds: float, result: BuildResult) -> None:
    m = result.manifest
    print(f"| {name} | {m.document_count} | {m.chunk_count} | {m.embedded_chunks} | "
          f"{m.reused_chunks} | {seconds:.1f} |", flush=True)


def timed(build: Callable[[], BuildResult]) -> tuple[float, BuildResult]:
    started = time.perf_counter()
    result = build()
    return time.perf_counter() - started, result


def project_corpus(corpus: Path, work: Path, embedder: Embedder, chunk_chars: int) -> None:
    copy = work / "corpus"
    shutil.copytree(corpus, copy)
    store = IndexStore(work / "corpus-index")

    def build(full: bool) -> BuildResult:
        return build_index(corpus_dir=copy, store=store, embedder=embedder,
                           chunk_chars=chunk_chars, full=full)

    seconds, result = timed(lambda: build(True))
    row(f"project corpus ({corpus}): full build", seconds, result)
    article = sorted(copy.rglob("*.de.md"))[0]
    article.write_text(article.read_text(encoding="utf-8").rstrip() + EXTRA, encoding="utf-8")
    seconds, result = timed(lambda: build(False))
    row(f"project corpus: re-index after changing {article.relative_to(copy)}", seconds,
        result)


def omos_pages(pages: Path, work: Path, embedder: Embedder, chunk_chars: int) -> None:
    from chatbot.evaluation.datasets import load_omos_pages

    articles = load_omos_pages(pages)
    store = IndexStore(work / "omos-index")

    def build(items: list[Article], source_hash: str, full: bool) -> BuildResult:
        return build_index_from_articles(articles=items, issues=[],
                                         source_hash=source_hash, store=store,
                                         embedder=embedder, chunk_chars=chunk_chars, full=full)

    seconds, result = timed(lambda: build(list(articles), "omos", True))
    row(f"OMoS-QA pages ({pages}): full build", seconds, result)
    changed = list(articles)
    changed[0] = dataclasses.replace(changed[0], body=changed[0].body + EXTRA)
    seconds, result = timed(lambda: build(list(changed), "omos-changed", False))
    row(f"OMoS-QA pages: re-index after changing page {changed[0].id}", seconds, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None,
                        help="Corpus directory (default: CHATBOT_CORPUS_DIR)")
    parser.add_argument("--omos-pages", type=Path, default=None,
                        help="OMoS-QA pages.jsonl, e.g. ../shared/data/omos_qa/pages.jsonl")
    args = parser.parse_args()
    settings = get_settings()
    corpus: Path = args.corpus or settings.corpus_dir

    started = time.perf_counter()
    embedder = load_embedder(settings)
    print(f"model {embedder.model_id} loaded in {time.perf_counter() - started:.1f} s; "
          f"{os.cpu_count()} CPU(s)\n")
    print("| build | language versions | chunks | embedded | reused | seconds |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="chatbot-reindex-") as tmp:
        project_corpus(corpus, Path(tmp), embedder, settings.chunk_chars)
        if args.omos_pages is not None:
            omos_pages(args.omos_pages, Path(tmp), embedder, settings.chunk_chars)


if __name__ == "__main__":
    main()
