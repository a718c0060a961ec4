"""The interface every embedder offers, so tests can swap in a deterministic fake."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    @property
    def model_id(self) -> str:
        """Identifies the model; an index built with another model id is refused."""
        ...

    @property
    def dimension(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """L2-normalised float32 rows, one per text, with the model's query prompt."""
        ...

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        """L2-normalised float32 rows, one per text, with the model's passage prompt."""
        ...
