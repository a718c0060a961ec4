"""Build a new index version from the corpus and make it current.

Vectors of chunks whose passage text is unchanged are copied from any version
still on disk that was built with the same model, so re-indexing after an edit
embeds just the edit, and so does the fix after a bad build was published.
A build that lost German article versions or shrank too much compared to the
current version is refused unless forced (`publish_guard`).
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
from chatbot.embedding.centering import center_documents, document_means
from chatbot.errors import ChatbotError, CorpusError, PublishRefusedError
from chatbot.index import lexical_index, vector_index
from chatbot.index.lexical import analysis_fingerprint
from chatbot.index.manifest import FileError, IndexManifest, VectorIndexInfo
from chatbot.index.publish_guard import (
    DEFAULT_MAX_SHRINK,
    check_publishable,
    current_shape,
    shape_of_build,
)
from chatbot.index.store import MANIFEST, IndexStore, read_manifest

CHUNKS_FILE = "chunks.jsonl"
ARTICLES_FILE = "articles.jsonl"
VECTORS_FILE = "vectors.faiss"
CENTRED_FILE = "centred.faiss"
"""Language-centred vectors, written only for an approximate index (a flat one is
centred at load time, which costs less than reading it)."""
EMBED_BATCH = 128

# Called with (stage, done, total) so a server can show how far a build has got.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildResult:
    manifest: IndexManifest
    path: Path
    issues: list[CorpusIssue]


def corpus_hash(corpus_dir: Path) -> str:
    """Hash of every article file's name and bytes, and of the languages' text analysis
    that turns them into BM25 terms: equal hashes mean nothing to rebuild (a language
    file that changes its stemmer, prefix or stop words makes the index stale)."""
    digest = hashlib.sha256()
    digest.update(analysis_fingerprint().encode())
    digest.update(b"\0")
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
    force: bool = False,
    max_shrink: float = DEFAULT_MAX_SHRINK,
    ann_min_chunks: int = vector_index.ANN_MIN_CHUNKS,
) -> BuildResult:
    """`model_profile` names the model profile the search serves this version with;
    it is recorded in the manifest. Raises `PublishRefusedError` (nothing published)
    when the build lost German versions or shrank by more than `max_shrink` compared
    to the current version, unless `force`."""
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
        force=force,
        max_shrink=max_shrink,
        ann_min_chunks=ann_min_chunks,
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
    force: bool = False,
    max_shrink: float = DEFAULT_MAX_SHRINK,
    ann_min_chunks: int = vector_index.ANN_MIN_CHUNKS,
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
        # Checked before the slow embedding: a refused build costs nothing.
        forced = _check_publishable(store, articles, issues, chunk_count=len(chunks),
                                    chunk_chars=chunk_chars, max_shrink=max_shrink,
                                    force=force)
        previous = {} if full else _kept_vectors(
            store, embedder.model_id, embedder.dimension, {c.content_hash for c in chunks})
        vectors, reused = _embed(chunks, embedder, previous, show_progress=show_progress,
                                 progress=progress)
        if progress:
            progress("writing index", len(chunks), len(chunks))
        vector_info = vector_index.choose(len(chunks), ann_min_chunks=ann_min_chunks)
        _write_index(staging, articles, chunks, vectors, vector_info)
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
            forced=forced,
            vector_index=vector_info,
        )
        (staging / "builder.pid").unlink()
        # The manifest is written last: a directory without one is never loaded.
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        replaced = store.current_version()
        path = store.publish(staging, version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # The version this build replaced is where a rollback goes if the new one is
    # wrong, even when it was an older version rolled back to.
    store.prune(keep_versions, protect={replaced} if replaced else set())
    return BuildResult(manifest=manifest, path=path, issues=list(issues))


def _check_publishable(store: IndexStore, articles: Sequence[Article],
                       issues: Sequence[CorpusIssue], *, chunk_count: int, chunk_chars: int,
                       max_shrink: float, force: bool) -> bool:
    """Raise `PublishRefusedError` unless the build may replace the current version;
    True when only `force` let it through (recorded in the manifest)."""
    current = current_shape(store)
    if current is None:
        return False
    try:
        check_publishable(current_version=current[0], current=current[1],
                          new=shape_of_build(articles, chunk_count=chunk_count,
                                             chunk_chars=chunk_chars),
                          issues=issues, max_shrink=max_shrink)
    except PublishRefusedError:
        if not force:
            raise
        return True
    return False


def _kept_vectors(store: IndexStore, model_id: str, dimension: int,
                  wanted: set[str]) -> dict[str, Vectors]:
    """Vectors of the `wanted` chunk hashes from any version on disk built with this
    model, the current version first, then newest first. A version that cannot be read
    is skipped: its chunks are embedded again, nothing worse."""
    import faiss

    current = store.current_version()
    newest_first = ([current] if current else []) + [
        v for v in reversed(store.versions()) if v != current]
    found: dict[str, Vectors] = {}
    for version in newest_first:
        missing = wanted - found.keys()
        if not missing:
            break
        directory = store.root / version
        try:
            manifest = read_manifest(directory)
            if manifest.model_id != model_id or manifest.dimension != dimension:
                continue
            hashes = [json.loads(line)["content_hash"] for line in
                      (directory / CHUNKS_FILE).read_text(encoding="utf-8").splitlines()]
            rows = [i for i, h in enumerate(hashes) if h in missing]
            if not rows:
                continue
            index = vector_index.prepare_loaded(
                faiss.read_index(str(directory / VECTORS_FILE)), manifest.vector_index)
            if index.ntotal != len(hashes):
                continue
            matrix = index.reconstruct_n(0, index.ntotal)
        except (ChatbotError, OSError, ValueError, KeyError, RuntimeError):
            continue
        for i in rows:
            found[hashes[i]] = matrix[i]
    return found


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
    directory: Path, articles: Sequence[Article], chunks: Sequence[Chunk], vectors: Vectors,
    vector_info: VectorIndexInfo,
) -> None:
    import faiss

    faiss.write_index(vector_index.build(vectors, vector_info), str(directory / VECTORS_FILE))
    if vector_info.kind != "flat":
        langs = np.array([c.lang for c in chunks])
        centred = center_documents(vectors, langs, document_means(vectors, langs))
        faiss.write_index(vector_index.build(centred, vector_info),
                          str(directory / CENTRED_FILE))
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
                "machine_translated": article.machine_translated,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    lexical_index.build(directory, [(c.lexical, c.lang) for c in chunks])


def _count_languages(articles: Sequence[Article]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for article in articles:
        counts[article.lang] = counts.get(article.lang, 0) + 1
    return dict(sorted(counts.items()))
