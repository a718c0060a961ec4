"""Per-language mean-centering of embeddings.

multilingual-e5 vectors carry a language component: a question scores higher
against any page in its own language than against the right page in another
(DESIGN.md). Subtracting each language's mean vector, from documents and from
queries, removes that component (Libovický et al., "On the Language Neutrality of
Pre-trained Multilingual Representations", 2020) and also the shared anisotropic
direction, which sharpens cosine differences.

Document means come from the index itself. Query means cannot: queries use a
different prompt and are not in the index. They are part of the model profile
(chatbot/model_profile.py): a base query mean plus per-language offsets measured on the
project's own parallel corpus (every article exists in all seven languages), fitted
by `chatbot eval fit-ranker`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class QueryCentroids:
    model_id: str
    means: dict[str, npt.NDArray[np.float32]]

    def mean_for(self, lang: str | None) -> npt.NDArray[np.float32]:
        if lang is not None and lang in self.means:
            return self.means[lang]
        # An unsupported or unknown language: remove the shared part only.
        return np.asarray(np.mean(list(self.means.values()), axis=0), dtype=np.float32)

    def save(self, path: Path) -> None:
        arrays: dict[str, npt.NDArray[np.generic]] = {f"lang_{k}": v for k, v in self.means.items()}
        arrays["model_id"] = np.array(self.model_id)
        np.savez(path, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, source: Path) -> QueryCentroids | None:
        if not source.is_file():
            return None
        data = np.load(source)
        means = {k.removeprefix("lang_"): data[k].astype(np.float32)
                 for k in data.files if k.startswith("lang_")}
        return cls(model_id=str(data["model_id"]), means=means)


def document_means(vectors: Matrix, langs: npt.NDArray[np.str_]) -> dict[str, Matrix]:
    return {str(lang): np.asarray(vectors[langs == lang].mean(axis=0), dtype=np.float32)
            for lang in np.unique(langs)}


def center_documents(vectors: Matrix, langs: npt.NDArray[np.str_],
                     means: dict[str, Matrix]) -> Matrix:
    centered = vectors.copy()
    for lang, mean in means.items():
        centered[langs == lang] -= mean
    return _normalise(centered)


def center_query(vector: Matrix, mean: Matrix) -> Matrix:
    centred: Matrix = _normalise((vector - mean).reshape(1, -1))[0]
    return centred


def fit_query_centroids(
    *,
    model_id: str,
    base_queries: Matrix,
    parallel_queries: Matrix,
    parallel_langs: Sequence[str],
    base_langs: Sequence[str],
) -> QueryCentroids:
    """Query means for every language of the parallel corpus.

    `base_queries` are real questions (in `base_langs`); their mean fixes the shared
    part. Each language's offset is its mean over the parallel corpus (the same
    texts in every language, so topic cancels) minus the mean over `base_langs`.
    """
    langs = np.asarray(parallel_langs)
    parallel = {str(L): parallel_queries[langs == L].mean(axis=0) for L in np.unique(langs)}
    bases = np.asarray(base_langs)
    real = {str(L): base_queries[bases == L].mean(axis=0) for L in np.unique(bases)}
    shared = [L for L in real if L in parallel]
    real_base = np.mean([real[L] for L in shared], axis=0)
    parallel_base = np.mean([parallel[L] for L in shared], axis=0)
    means = {L: (real_base + vec - parallel_base).astype(np.float32)
             for L, vec in parallel.items()}
    return QueryCentroids(model_id=model_id, means=means)


def _normalise(matrix: Matrix) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.asarray(matrix / np.maximum(norms, 1e-12), dtype=np.float32)
