"""Embedder backed by a sentence-transformers model folder or name, loaded offline."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chatbot.config import Settings
from chatbot.embedding.base import Vectors
from chatbot.errors import ModelNotAvailableError

# e5 models were trained with these prefixes; without them retrieval quality drops.
E5_PROMPTS = {"query": "query: ", "document": "passage: "}


class SentenceTransformerEmbedder:
    def __init__(self, model: Any, model_id: str, *, batch_size: int = 32) -> None:
        self._model = model
        self._model_id = model_id
        self._batch_size = batch_size
        prompts = getattr(model, "prompts", None) or {}
        if not prompts and "e5" in model_id.lower():
            prompts = dict(E5_PROMPTS)
        self._query_prompt: str = prompts.get("query", "")
        self._passage_prompt: str = prompts.get("document", prompts.get("passage", ""))
        # sentence-transformers 6 renamed the method; 5.x only has the old name.
        get_dimension = (getattr(model, "get_embedding_dimension", None)
                         or model.get_sentence_embedding_dimension)
        dimension = get_dimension()
        if not dimension:
            raise ModelNotAvailableError(f"model {model_id} does not report its dimension")
        self._dimension = int(dimension)

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode([self._query_prompt + t for t in texts], show_progress=False)

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        return self._encode([self._passage_prompt + t for t in texts], show_progress=show_progress)

    def _encode(self, texts: list[str], *, show_progress: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The configured model; the bundled one must have been prepared (`chatbot model prepare`)."""
    # Never reach for a model hub: these machines are offline by design.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # The weight-loading progress bar would end up in every CLI error output.
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

    from chatbot.embedding.bundled import bundled_model_dir, bundled_model_id

    if settings.uses_bundled_model:
        path = bundled_model_dir(settings)
        if not (path / "modules.json").is_file():
            raise ModelNotAvailableError(
                f"the bundled model is not prepared in {path}; run `chatbot model prepare`"
            )
        source, model_id = str(path), bundled_model_id()
    else:
        source = model_id = settings.embedding_model
        if Path(source).expanduser().exists():
            source = str(Path(source).expanduser())
    if settings.compute_threads is not None:
        configure_threads(settings.compute_threads)
    try:
        model = SentenceTransformer(source, device="cpu")
    except Exception as exc:  # library raises OSError, ValueError, HF errors...
        raise ModelNotAvailableError(
            f"cannot load embedding model {model_id!r} offline: {exc}"
        ) from exc
    return SentenceTransformerEmbedder(model, model_id, batch_size=settings.embedding_batch_size)


def configured_model_id(settings: Settings) -> str:
    """The model id `load_embedder` gives the configured model, without loading it."""
    from chatbot.embedding.bundled import bundled_model_id

    return bundled_model_id() if settings.uses_bundled_model else settings.embedding_model


def configure_threads(threads: int | None) -> int:
    """torch's intra-op threads per encode; default: half the cores (at least one).
    Set for serving (`SearchService.from_settings`); a build alone in its process
    (`chatbot ingest`) keeps torch's default of every core unless
    `CHATBOT_COMPUTE_THREADS` says otherwise.

    With micro-batching one encode runs at a time in the batcher's thread, and the
    request threads (language detection, ranking, JSON) need the other cores. Measured
    on 2 shared cores under load: an encode with 2 threads from a worker thread took
    4.6 s where 1 thread took 0.23 s (OpenMP threads spin-waiting for a core), so
    more threads than a share of the cores is a risk, not a gain. FAISS searches one
    query per call and concurrent requests search side by side, so its OpenMP pool is
    kept at one thread."""
    import faiss
    import torch

    count = threads or max(1, (os.cpu_count() or 2) // 2)
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    faiss.omp_set_num_threads(1)
    return count
