"""Micro-batching of query encodes: concurrent requests' queries go into one model call.

One encode of 16 short queries costs little more than one of a single query on a CPU
(the model's matrix products get wider, not more numerous), while 16 encodes side by
side only compete for the same cores. Callers (request threads of the server's
thread pool, never the event loop) put their query on a queue and wait; one worker
thread takes the first waiting query, collects more for at most `window_seconds` or
until `max_batch`, encodes them in one call and hands each caller its own row.

A failed batch is retried one query at a time, so one query the model cannot encode
fails only its own caller. A caller that times out cancels its query; the worker skips
cancelled ones.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from chatbot.embedding.base import Embedder, Vectors
from chatbot.errors import ModelOverloadedError

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    text: str
    future: Future[npt.NDArray[np.float32]] = field(default_factory=Future)


@dataclass
class BatchStats:
    batches: int = 0
    queries: int = 0
    largest: int = 0


class BatchingEmbedder:
    """An `Embedder` whose `embed_queries` batches concurrent single-query calls."""

    def __init__(self, inner: Embedder, *, window_seconds: float = 0.003, max_batch: int = 16,
                 timeout_seconds: float = 30.0) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.inner = inner
        self.window_seconds = window_seconds
        self.max_batch = max_batch
        self.timeout_seconds = timeout_seconds
        self.stats = BatchStats()
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        return self.inner.embed_passages(texts, show_progress=show_progress)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Rows in the order of `texts`; a call with a full batch of its own (an
        evaluation) goes to the model directly."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) >= self.max_batch or self._closed:
            return self.inner.embed_queries(texts)
        self._ensure_worker()
        pending = [_Pending(text) for text in texts]
        for item in pending:
            self._queue.put(item)
        deadline = time.monotonic() + self.timeout_seconds
        rows = []
        try:
            for item in pending:
                rows.append(item.future.result(timeout=max(0.0, deadline - time.monotonic())))
        except FutureTimeout as exc:
            for item in pending:
                item.future.cancel()
            raise ModelOverloadedError(
                f"query encode took longer than {self.timeout_seconds:g} s") from exc
        return np.stack(rows).astype(np.float32, copy=False)

    def close(self) -> None:
        """Stop the worker after the queries already queued (later calls encode directly)."""
        self._closed = True
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=self.timeout_seconds)

    def _ensure_worker(self) -> None:
        if self._worker is not None:
            return
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="query-encoder",
                                                daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            deadline = time.monotonic() + self.window_seconds
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    item = (self._queue.get(timeout=remaining) if remaining > 0
                            else self._queue.get_nowait())
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._encode([p for p in batch if p.future.set_running_or_notify_cancel()])
            if stop:
                return

    def _encode(self, batch: list[_Pending]) -> None:
        if not batch:
            return
        self.stats.batches += 1
        self.stats.queries += len(batch)
        self.stats.largest = max(self.stats.largest, len(batch))
        try:
            vectors = self.inner.embed_queries([p.text for p in batch])
            if len(vectors) != len(batch):
                raise RuntimeError(f"the model returned {len(vectors)} rows for {len(batch)}")
        except Exception as exc:  # the model's own errors; each caller gets its own
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            log.warning("a batch of %d query encodes failed (%s); encoding one by one",
                        len(batch), exc)
            for item in batch:
                try:
                    item.future.set_result(self.inner.embed_queries([item.text])[0])
                except Exception as single:
                    item.future.set_exception(single)
            return
        for item, vector in zip(batch, vectors, strict=True):
            item.future.set_result(vector)

