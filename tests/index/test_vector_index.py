"""The vector index kind is chosen by size at build time and recorded in the manifest;
an approximate (IVF) version loads and searches like a flat one; manifests written
before the field existed load as flat."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from chatbot.embedding.bundled import bundled_model_id
from chatbot.index import IndexStore, LoadedIndex, build_index, vector_index
from chatbot.index.builder import CENTRED_FILE
from chatbot.index.store import MANIFEST
from chatbot.model_profile import load_model_profile
from chatbot.retrieval import HybridRetriever
from tests.conftest import FakeEmbedder

RANKER = load_model_profile(bundled_model_id()).ranker


def _corpus(write_article) -> None:  # type: ignore[no-untyped-def]
    for i in range(12):
        write_article(f"thema-{i}", "de", title=f"Thema {i}",
                      body=f"## Teil\n\nWort{i} Antrag Gebühr Termin {i}.\n\n## Mehr\n\nNoch{i}.")
        write_article(f"thema-{i}", "en", title=f"Topic {i}",
                      body=f"## Part\n\nWord{i} application fee appointment {i}.")


def test_below_the_threshold_the_index_is_exact(write_article, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _corpus(write_article)
    result = build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "idx"),
                         embedder=FakeEmbedder())
    assert result.manifest.vector_index.kind == "flat"
    assert not (result.path / CENTRED_FILE).exists()


def test_above_the_threshold_an_ivf_index_is_built_recorded_and_searched(
        write_article, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _corpus(write_article)
    embedder = FakeEmbedder()
    result = build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "idx"),
                         embedder=embedder, ann_min_chunks=10)
    manifest = json.loads((result.path / MANIFEST).read_text())
    assert manifest["vector_index"]["kind"] == "ivf"
    assert manifest["vector_index"]["nprobe"] >= 8
    assert (result.path / CENTRED_FILE).is_file()
    index = LoadedIndex(result.path)
    assert type(index.vectors).__name__.startswith("IndexIVF")
    query = "Wort3 Antrag"
    vector = embedder.embed_queries([query])[0]
    # The exact scores of an IVF index are every vector's, as a flat index gives them.
    raw = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    np.testing.assert_allclose(index.dense_scores(vector), raw @ vector, atol=1e-5)
    hits = HybridRetriever(index, embedder, RANKER).search_embedded(query, vector,
                                                                      query_lang="de")
    exhaustive = HybridRetriever(index, embedder, RANKER, exhaustive=True).search_embedded(
        query, vector, query_lang="de")
    assert hits[0].article_id == exhaustive[0].article_id
    assert "thema-3" in [h.article_id for h in hits[:3]]  # found by BM25 whatever IVF misses


def test_a_manifest_without_the_field_loads_as_flat(write_article, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _corpus(write_article)
    result = build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "idx"),
                         embedder=FakeEmbedder())
    path = result.path / MANIFEST
    old = json.loads(path.read_text())
    del old["vector_index"]
    path.write_text(json.dumps(old))
    index = LoadedIndex(result.path)
    assert index.manifest.vector_index.kind == "flat"
    assert len(index.dense_top(FakeEmbedder().embed_queries(["Wort1"])[0], 5)) == 5


def test_the_kind_is_chosen_by_size() -> None:
    assert vector_index.choose(49_999).kind == "flat"
    big = vector_index.choose(1_000_000)
    assert big.kind == "ivf"
    assert big.nlist == 4000
    assert big.nprobe == 125
