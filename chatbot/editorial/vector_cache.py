"""Query vectors remembered in this process, so the content-gap report embeds only the
questions it has not seen before (it otherwise re-embedded every question on every
request: 1,251 questions took 19 s).

Keyed by (model id and dimension, text): a swapped model never reuses another model's vectors.
Bounded (least recently used out first), so memory stays fixed however many distinct
questions arrive. The texts are the stored, already masked questions.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from chatbot.embedding.base import Embedder, Vectors

# 20,000 vectors of 384 floats are about 30 MB.
DEFAULT_MAX_ENTRIES = 20_000


class QueryVectorCache:
    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._vectors: OrderedDict[tuple[str, str], Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def embed_queries(self, embedder: Embedder, texts: Sequence[str]) -> Vectors:
        """The same rows as `embedder.embed_queries(texts)`, embedding only the misses
        (in one batch, outside the lock: embedding is slow, look-ups must not wait)."""
        model = f"{embedder.model_id}/{embedder.dimension}"
        found: dict[str, Vectors] = {}
        with self._lock:
            for text in texts:
                vector = self._vectors.get((model, text))
                if vector is not None:
                    self._vectors.move_to_end((model, text))
                    found[text] = vector
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            embedded = np.asarray(embedder.embed_queries(missing), dtype=np.float32)
            with self._lock:
                for text, vector in zip(missing, embedded, strict=True):
                    found[text] = vector
                    self._vectors[(model, text)] = vector
                    self._vectors.move_to_end((model, text))
                while len(self._vectors) > self.max_entries:
                    self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, embedder.dimension), dtype=np.float32)
        return np.stack([found[text] for text in texts]).astype(np.float32, copy=False)


# One per process: the report is requested by editors, the embedder is the server's.
query_vectors = QueryVectorCache()
