"""Index builds with the deterministic fake embedder: versioning, reuse, failure safety."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chatbot.errors import CorpusError, IndexIncompatibleError, IndexNotFoundError
from chatbot.index import IndexStore, LoadedIndex, build_index
from chatbot.index.builder import index_is_current
from tests.conftest import FakeEmbedder


def make_corpus(write_article) -> None:  # type: ignore[no-untyped-def]
    write_article("reisepass", "de", body="## Gebühren\n\nDer Reisepass kostet 70 Euro.")
    write_article("reisepass", "en", title="Passport", body="## Fees\n\nA passport costs 70 euros.")
    write_article("hund", "de", body="## Hundesteuer\n\nMelden Sie Ihren Hund an.")


def build(tmp_path: Path, embedder: FakeEmbedder, **kwargs):  # type: ignore[no-untyped-def]
    return build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "idx"),
                       embedder=embedder, **kwargs)


def test_build_publishes_a_complete_version_with_manifest(write_article, tmp_path: Path,
                                                         fake_embedder: FakeEmbedder) -> None:
    make_corpus(write_article)
    write_article("kaputt", "de", front="id: kaputt\nlang: xx\n")
    result = build(tmp_path, fake_embedder)
    store = IndexStore(tmp_path / "idx")
    assert store.current_version() == result.manifest.version
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["model_id"] == "fake-embedder"
    assert manifest["dimension"] == 64
    assert manifest["article_count"] == 2
    assert manifest["document_count"] == 3
    assert manifest["chunk_count"] == 3
    assert manifest["languages"] == {"de": 2, "en": 1}
    assert manifest["errors"] == [{"path": "amt/kaputt.de.md",
                                   "reason": "missing field(s): title, department, updated"}]
    assert len(manifest["corpus_hash"]) == 64
    assert {p.name for p in result.path.iterdir()} >= {
        "manifest.json", "vectors.faiss", "chunks.jsonl", "articles.jsonl", "bm25"}
    assert index_is_current(store, tmp_path / "corpus", "fake-embedder")


def test_another_text_analysis_makes_the_index_stale(write_article, tmp_path: Path,
                                                    fake_embedder: FakeEmbedder,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # The BM25 terms are stored analysed: Turkish cut to prefixes instead of stemmed must
    # rebuild them, though no article changed.
    make_corpus(write_article)
    build(tmp_path, fake_embedder)
    store = IndexStore(tmp_path / "idx")
    assert index_is_current(store, tmp_path / "corpus", "fake-embedder")
    monkeypatch.setattr("chatbot.index.builder.analysis_fingerprint",
                        lambda: '{"tr": {"stemmer": "turkish"}}')
    assert not index_is_current(store, tmp_path / "corpus", "fake-embedder")


def test_rebuild_reuses_vectors_of_unchanged_chunks(write_article, tmp_path: Path) -> None:
    make_corpus(write_article)
    first = FakeEmbedder()
    build(tmp_path, first)
    assert len(first.embedded_passages) == 3

    write_article("hund", "de", body="## Hundesteuer\n\nMelden Sie Ihren Hund bald an.")
    second = FakeEmbedder()
    result = build(tmp_path, second)
    assert second.embedded_passages == ["Hund\nHundesteuer\nMelden Sie Ihren Hund bald an."]
    assert (result.manifest.embedded_chunks, result.manifest.reused_chunks) == (1, 2)

    third = FakeEmbedder()
    assert build(tmp_path, third, full=True).manifest.embedded_chunks == 3


def test_a_failing_build_leaves_the_previous_version_serving(write_article, tmp_path: Path,
                                                            fake_embedder: FakeEmbedder) -> None:
    make_corpus(write_article)
    first = build(tmp_path, fake_embedder)
    write_article("neu", "de", body="Neuer Text.")

    class Exploding(FakeEmbedder):
        def embed_passages(self, texts, *, show_progress=False):  # type: ignore[no-untyped-def]
            raise RuntimeError("killed mid-way")

    with pytest.raises(RuntimeError):
        build(tmp_path, Exploding(), full=True)
    store = IndexStore(tmp_path / "idx")
    assert store.current_version() == first.manifest.version
    assert not list((tmp_path / "idx").glob(".building-*"))
    assert LoadedIndex(store.current_dir()).manifest.document_count == 3


def test_no_valid_article_is_an_error_and_publishes_nothing(write_article, tmp_path: Path,
                                                           fake_embedder: FakeEmbedder) -> None:
    write_article("kaputt", "de", body="")
    with pytest.raises(CorpusError, match="no valid article"):
        build(tmp_path, fake_embedder)
    assert IndexStore(tmp_path / "idx").current_version() is None


def test_index_built_with_another_model_is_refused(write_article, tmp_path: Path,
                                                  fake_embedder: FakeEmbedder) -> None:
    make_corpus(write_article)
    result = build(tmp_path, fake_embedder)
    with pytest.raises(IndexIncompatibleError, match="built with 'fake-embedder'"):
        LoadedIndex(result.path, expected_model_id="another-model")


def test_missing_index_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="chatbot ingest"):
        IndexStore(tmp_path / "idx").current_dir()


def test_old_versions_are_pruned(write_article, tmp_path: Path) -> None:
    make_corpus(write_article)
    versions = []
    for i in range(4):
        write_article("hund", "de", body=f"Version {i}.")
        versions.append(build(tmp_path, FakeEmbedder(), keep_versions=2).manifest.version)
    store = IndexStore(tmp_path / "idx")
    assert store.versions() == versions[-2:]
    assert store.current_version() == versions[-1]


def test_progress_is_reported_and_staging_exists_while_embedding(  # type: ignore[no-untyped-def]
        write_article, tmp_path: Path) -> None:
    make_corpus(write_article)
    seen: list[tuple[str, int, int]] = []
    staging_during_embedding: list[list[Path]] = []

    class Watching(FakeEmbedder):
        def embed_passages(self, texts, *, show_progress=False):  # type: ignore[no-untyped-def]
            pids = (tmp_path / "idx").glob(".building-*/builder.pid")
            staging_during_embedding.append(list(pids))
            return super().embed_passages(texts, show_progress=show_progress)

    build(tmp_path, Watching(), progress=lambda *step: seen.append(step))
    # A build killed while embedding leaves a directory with a dead pid for prune().
    assert [len(found) for found in staging_during_embedding] == [1]
    assert [s[0] for s in seen] == ["loading corpus", "embedding", "embedding", "writing index"]
    assert seen[2] == ("embedding", 3, 3)


def test_prune_removes_an_abandoned_build_but_not_a_live_one(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "idx")
    dead = store.staging_dir()
    (dead / "builder.pid").write_text("999999999")
    live = store.staging_dir()
    (live / "builder.pid").write_text(str(os.getpid()))
    store.prune(5)
    assert not dead.exists()
    assert live.exists()
