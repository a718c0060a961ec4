"""Micro-batching of query encodes: each concurrent caller gets its own vector, in order,
its own error, and a timeout; concurrent calls share model calls."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from chatbot.embedding.base import Embedder, Vectors
from chatbot.embedding.batching import BatchingEmbedder
from chatbot.errors import ModelOverloadedError
from tests.conftest import FakeEmbedder


class RecordingEmbedder:
    """FakeEmbedder's vectors; records every model call's batch, can fail on a marker
    text, and can hold calls until released (to make callers pile up)."""

    def __init__(self, *, fail_on: str | None = None, delay: float = 0.0) -> None:
        self.fake = FakeEmbedder()
        self.calls: list[list[str]] = []
        self.fail_on = fail_on
        self.delay = delay
        self.gate = threading.Event()
        self.gate.set()
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.fake.model_id

    @property
    def dimension(self) -> int:
        return self.fake.dimension

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.gate.wait(5)
        with self._lock:
            self.calls.append(list(texts))
        if self.delay:
            threading.Event().wait(self.delay)
        if self.fail_on is not None and self.fail_on in texts:
            raise ValueError(f"cannot encode {self.fail_on!r}")
        return self.fake.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        return self.fake.embed_passages(texts)


TEXTS = [f"Frage {i} zum Thema {w}" for i, w in
         enumerate(["Reisepass", "Hund", "Wohngeld", "Müll", "Auto", "Kita", "Steuer", "Bad"]
                   * 5)]


def test_the_wrapper_is_an_embedder() -> None:
    assert isinstance(BatchingEmbedder(FakeEmbedder()), Embedder)


def test_concurrent_callers_each_get_their_own_vector_in_fewer_model_calls() -> None:
    inner = RecordingEmbedder()
    batcher = BatchingEmbedder(inner, window_seconds=0.05, max_batch=8)
    expected = FakeEmbedder().embed_queries(TEXTS)
    inner.gate.clear()  # callers queue up behind the first model call
    with ThreadPoolExecutor(max_workers=len(TEXTS)) as pool:
        futures = [pool.submit(batcher.embed_queries, [t]) for t in TEXTS]
        threading.Event().wait(0.2)
        inner.gate.set()
        results = [f.result(timeout=10) for f in futures]
    for text, result, want in zip(TEXTS, results, expected, strict=True):
        assert result.shape == (1, inner.dimension), text
        np.testing.assert_array_equal(result[0], want)
    assert sum(len(c) for c in inner.calls) == len(TEXTS)
    assert max(len(c) for c in inner.calls) <= 8
    assert len(inner.calls) < len(TEXTS) / 2
    assert batcher.stats.largest > 1
    batcher.close()


def test_a_call_with_several_texts_keeps_their_order() -> None:
    inner = RecordingEmbedder()
    batcher = BatchingEmbedder(inner, window_seconds=0.01, max_batch=16)
    texts = TEXTS[:5]
    np.testing.assert_array_equal(batcher.embed_queries(texts),
                                  FakeEmbedder().embed_queries(texts))
    # A full batch of its own goes to the model directly, in one call.
    many = TEXTS[:16]
    np.testing.assert_array_equal(batcher.embed_queries(many),
                                  FakeEmbedder().embed_queries(many))
    assert inner.calls[-1] == [*many]
    assert batcher.embed_queries([]).shape == (0, inner.dimension)
    batcher.close()


def test_a_failing_query_fails_only_its_own_caller() -> None:
    bad = "kaputt"
    inner = RecordingEmbedder(fail_on=bad)
    batcher = BatchingEmbedder(inner, window_seconds=0.05, max_batch=16)
    texts = [*TEXTS[:6], bad, *TEXTS[6:12]]
    inner.gate.clear()
    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        futures = [pool.submit(batcher.embed_queries, [t]) for t in texts]
        threading.Event().wait(0.2)
        inner.gate.set()
        outcomes = []
        for future in futures:
            try:
                outcomes.append(future.result(timeout=10))
            except ValueError as exc:
                outcomes.append(exc)
    expected = FakeEmbedder().embed_queries(texts)
    for text, outcome, want in zip(texts, outcomes, expected, strict=True):
        if text == bad:
            assert isinstance(outcome, ValueError)
            assert bad in str(outcome)
        else:
            assert isinstance(outcome, np.ndarray), text
            np.testing.assert_array_equal(outcome[0], want)
    batcher.close()


def test_a_caller_whose_encode_takes_too_long_gets_a_timeout_and_the_batcher_recovers() -> None:
    inner = RecordingEmbedder()
    batcher = BatchingEmbedder(inner, window_seconds=0.0, max_batch=4, timeout_seconds=0.2)
    inner.gate.clear()
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(batcher.embed_queries, [TEXTS[0]])]
        threading.Event().wait(0.05)  # the worker holds the first in the model call
        futures += [pool.submit(batcher.embed_queries, [t]) for t in TEXTS[1:3]]
        for future in futures:
            with pytest.raises(ModelOverloadedError, match=r"longer than 0\.2 s"):
                future.result(timeout=10)
    inner.gate.set()
    # Cancelled queries are skipped; later callers are served.
    np.testing.assert_array_equal(batcher.embed_queries([TEXTS[5]])[0],
                                  FakeEmbedder().embed_queries([TEXTS[5]])[0])
    encoded = [t for call in inner.calls for t in call]
    assert TEXTS[5] in encoded
    assert not set(TEXTS[1:3]) & set(encoded)  # queued behind the first and cancelled
    batcher.close()


def test_with_the_real_model_batched_vectors_match_single_encodes(real_embedder) -> None:  # type: ignore[no-untyped-def]
    batcher = BatchingEmbedder(real_embedder, window_seconds=0.02, max_batch=8)
    texts = ["Wie beantrage ich einen Reisepass?", "I lost my ID card", "Köpek vergisi",
             "Jak zarejestrować samochód?", "Sperrmüll anmelden", "Wohngeld beantragen"]
    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        results = list(pool.map(lambda t: batcher.embed_queries([t])[0], texts))
    for text, vector in zip(texts, results, strict=True):
        alone = real_embedder.embed_queries([text])[0]
        assert float(vector @ alone) > 0.999, text
    assert batcher.stats.queries == len(texts)
    batcher.close()


def test_an_encode_timeout_is_a_503_for_api_clients() -> None:
    from chatbot.api.problems import domain_problem

    kind = domain_problem(ModelOverloadedError("query encode took longer than 30 s"))
    assert (kind.status, kind.slug) == (503, "model-overloaded")
