"""The content-gap report embeds each distinct question once per model, not on every
request; the cache is bounded and gives the embedder's own vectors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import pytest

from chatbot.editorial import content_gaps
from chatbot.editorial.content_gaps import cluster_gaps
from chatbot.editorial.gap_questions import REASON_ESCALATED, UNKNOWN, GapQuestion
from chatbot.editorial.vector_cache import QueryVectorCache
from chatbot.embedding.base import Vectors
from tests.conftest import FIXED_NOW, FakeEmbedder


class CountingEmbedder(FakeEmbedder):
    def __init__(self, model_id: str = "fake-embedder") -> None:
        super().__init__(model_id)
        self.embedded: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.embedded.extend(texts)
        return super().embed_queries(texts)


def questions(*texts: str) -> list[GapQuestion]:
    return [GapQuestion(text=text, language="de", department=UNKNOWN,
                        reasons=frozenset({REASON_ESCALATED}),
                        asked_at=FIXED_NOW - timedelta(hours=n), article_id=None)
            for n, text in enumerate(texts)]


def test_vectors_are_the_embedders_and_each_text_is_embedded_once() -> None:
    cache = QueryVectorCache()
    embedder = CountingEmbedder()
    texts = ["Hundesteuer anmelden", "Wo ist das Fundbüro?", "Hundesteuer anmelden"]
    first = cache.embed_queries(embedder, texts)
    np.testing.assert_array_equal(first, FakeEmbedder().embed_queries(texts))
    assert embedder.embedded == ["Hundesteuer anmelden", "Wo ist das Fundbüro?"]
    again = cache.embed_queries(embedder, [*texts, "Parkausweis verlängern"])
    np.testing.assert_array_equal(again[:3], first)
    assert embedder.embedded[2:] == ["Parkausweis verlängern"]
    # Another model never gets these vectors.
    other = CountingEmbedder("another-model")
    cache.embed_queries(other, texts[:1])
    assert other.embedded == texts[:1]
    assert cache.embed_queries(embedder, []).shape == (0, embedder.dimension)


def test_the_cache_is_bounded_least_recently_used_out_first() -> None:
    cache = QueryVectorCache(max_entries=2)
    embedder = CountingEmbedder()
    cache.embed_queries(embedder, ["a", "b"])
    cache.embed_queries(embedder, ["a"])  # "a" used again: "b" is now the oldest
    cache.embed_queries(embedder, ["c"])
    assert len(cache) == 2
    embedder.embedded.clear()
    cache.embed_queries(embedder, ["a", "b", "c"])
    assert embedder.embedded == ["b"]


def test_a_second_report_embeds_no_question_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content_gaps, "query_vectors", QueryVectorCache())
    embedder = CountingEmbedder()
    asked = questions("Hundesteuer anmelden", "Hundesteuer anmelden bitte", "Fundbüro")
    first = cluster_gaps(asked, embedder=embedder, threshold=0.8)
    assert sorted(embedder.embedded) == sorted({q.text for q in asked})
    embedder.embedded.clear()
    second = cluster_gaps(asked, embedder=embedder, threshold=0.8)
    assert embedder.embedded == []
    assert second == first
