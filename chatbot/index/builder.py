"""Build a new index version from the corpus and make it current.

Vectors of chunks whose passage text is unchanged are copied from the current
version (same model only), so re-indexing after an edit embeds just the edit.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from chatbot import __version__
from chatbot.corpus import Article, Chunk, CorpusIssue, chunk_article, load_corpus
from chatbot.embedding.base import Embedder, Vectors
from chatbot.errors import ChatbotError, CorpusError
from chatbot.index import lexical_index
from chatbot.index.manifest import FileError, IndexManifest
from chatbot.index.store import MANIFEST, IndexStore, read_manifest

CHUNKS_FILE = "chunks.jsonl"
ARTICLES_FILE = "articles.jsonl"
VECTORS_FILE = "vectors.faiss"
EMBED_BATCH = 128

# Called with (stage, done, total) so a server can show how far a build has got.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildResult:
    manifest: IndexManifest
    path: Path
    issues: list[CorpusIssue]


def corpus_hash(corpus_dir: Path) -> str:
    """Hash of every article file's name and bytes: equal hashes mean nothing to rebuild."""
    digest = hashlib.sha256()
    for path in sorted(corpus_dir.rglob("*.md")):
        digest.update(path.relative_to(corpus_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def index_is_current(store: IndexStore, corpus_dir: Path, model_id: str) -> bool:
    try:
        manifest = read_manifest(store.current_dir())
    except ChatbotError:
        return False
    return manifest.model_id == model_id and manifest.corpus_hash == corpus_hash(corpus_dir)


def build_index(
    *,
    corpus_dir: Path,
    store: IndexStore,
    embedder: Embedder,
    chunk_chars: int = 600,
    keep_versions: int = 5,
    full: bool = False,
    show_progress: bool = False,
    progress: Progress | None = None,
    model_profile: str | None = None,
) -> BuildResult:
    """`model_profile` names the model profile the search serves this version with;
    it is recorded in the manifest."""
    if progress:
        progress("loading corpus", 0, 0)
    loaded = load_corpus(corpus_dir)
    if not loaded.articles:
        details = "; ".join(str(i) for i in loaded.issues[:5])
        raise CorpusError(f"no valid article in {corpus_dir}" + (f": {details}" if details else ""))
    return build_index_from_articles(
        articles=loaded.articles,
        issues=loaded.issues,
        source_hash=corpus_hash(corpus_dir),
        store=store,
        embedder=embedder,
        chunk_chars=chunk_chars,
        keep_versions=keep_versions,
        full=full,
        show_progress=show_progress,
        progress=progress,
        model_profile=model_profile,
    )


def build_index_from_articles(
    *,
    articles: Sequence[Article],
    issues: Sequence[CorpusIssue],
    source_hash: str,
    store: IndexStore,
    embedder: Embedder,
    chunk_chars: int = 600,
    keep_versions: int = 5,
    full: bool = False,
    show_progress: bool = False,
    progress: Progress | None = None,
    model_profile: str | None = None,
) -> BuildResult:
    started = time.perf_counter()
    # The staging directory exists (with our pid) before the slow embedding, so a
    # build killed at any point leaves a directory that the next prune recognises
    # as abandoned.
    staging = store.staging_dir()
    try:
        (staging / "builder.pid").write_text(str(os.getpid()))
        chunks = [c for article in articles
                  for c in chunk_article(article, max_chars=chunk_chars)]
        previous = {} if full else _previous_vectors(store, embedder.model_id)
        vectors, reused = _embed(chunks, embedder, previous, show_progress=show_progress,
                                 progress=progress)
        if progress:
            progress("writing index", len(chunks), len(chunks))
        _write_index(staging, articles, chunks, vectors)
        version = datetime.now(UTC).strftime("v%Y%m%dT%H%M%S%fZ")
        manifest = IndexManifest(
            version=version,
            model_id=embedder.model_id,
            model_profile=model_profile,
            dimension=embedder.dimension,
            corpus_hash=source_hash,
            article_count=len({a.id for a in articles}),
            document_count=len(articles),
            chunk_count=len(chunks),
            languages=_count_languages(articles),
            chunk_chars=chunk_chars,
            errors=[FileError(path=i.path, reason=i.reason) for i in issues],
            embedded_chunks=len(chunks) - reused,
            reused_chunks=reused,
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            build_seconds=round(time.perf_counter() - started, 3),
            package_version=__version__,
        )
        (staging / "builder.pid").unlink()
        # The manifest is written last: a directory without one is never loaded.
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        path = store.publish(staging, version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    store.prune(keep_versions)
    return BuildResult(manifest=manifest, path=path, issues=list(issues))


def _previous_vectors(store: IndexStore, model_id: str) -> dict[str, Vectors]:
    import faiss

    try:
        current = store.current_dir()
        manifest = read_manifest(current)
    except ChatbotError:
        return {}
    if manifest.model_id != model_id:
        return {}
    index = faiss.read_index(str(current / VECTORS_FILE))
    matrix = index.reconstruct_n(0, index.ntotal)
    hashes = [json.loads(line)["content_hash"]
              for line in (current / CHUNKS_FILE).read_text(encoding="utf-8").splitlines()]
    return {h: matrix[i] for i, h in enumerate(hashes)}


def _embed(
    chunks: Sequence[Chunk],
    embedder: Embedder,
    previous: dict[str, Vectors],
    *,
    show_progress: bool,
    progress: Progress | None = None,
) -> tuple[Vectors, int]:
    vectors = np.zeros((len(chunks), embedder.dimension), dtype=np.float32)
    missing = [i for i, c in enumerate(chunks) if c.content_hash not in previous]
    for i, chunk in enumerate(chunks):
        if chunk.content_hash in previous:
            vectors[i] = previous[chunk.content_hash]
    if missing and progress is None:
        vectors[missing] = embedder.embed_passages(
            [chunks[i].passage for i in missing], show_progress=show_progress
        )
    elif missing and progress is not None:
        # Batches only to report progress; the embedder batches internally anyway.
        for start in range(0, len(missing), EMBED_BATCH):
            progress("embedding", start, len(missing))
            batch = missing[start:start + EMBED_BATCH]
            vectors[batch] = embedder.embed_passages([chunks[i].passage for i in batch])
        progress("embedding", len(missing), len(missing))
    return vectors, len(chunks) - len(missing)


def _write_index(
    directory: Path, articles: Sequence[Article], chunks: Sequence[Chunk], vectors: Vectors
) -> None:
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    faiss.write_index(index, str(directory / VECTORS_FILE))
    with (directory / CHUNKS_FILE).open("w", encoding="utf-8") as out:
        for chunk in chunks:
            record = {
                "article_id": chunk.article_id,
                "lang": chunk.lang,
                "position": chunk.position,
                "heading": chunk.heading,
                "text": chunk.text,
                "passage": chunk.passage,
                "lexical": chunk.lexical,
                "content_hash": chunk.content_hash,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    with (directory / ARTICLES_FILE).open("w", encoding="utf-8") as out:
        for article in articles:
            record = {
                "id": article.id,
                "lang": article.lang,
                "title": article.title,
                "department": article.department,
                "updated": article.updated.isoformat(),
                "url": article.url,
                "keywords": list(article.keywords),
                "appointment_service": article.appointment_service,
                "source_revision": (
                    article.source_revision.isoformat() if article.source_revision else None
                ),
                "path": article.path,
                "summary": article.summary,
                "body": article.body,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    lexical_index.build(directory, [(c.lexical, c.lang) for c in chunks])


def _count_languages(articles: Sequence[Article]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for article in articles:
        counts[article.lang] = counts.get(article.lang, 0) + 1
    return dict(sorted(counts.items()))
