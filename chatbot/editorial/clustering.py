"""Greedy complete-linkage clustering of L2-normalised vectors by cosine similarity.

Each vector joins the cluster it is at least `threshold` similar to *every member*
of (among several such clusters, the one with the highest mean similarity), else it
starts a new one. Complete linkage because the cheaper centroid variant drifts: the
mean of many different questions points at "a question to the city in this
language", which every question resembles with multilingual-e5 (its cosines are
compressed into about 0.75-0.95), so one cluster swallowed unrelated topics.

Numpy only; quadratic in the vectors of one group, which stays small (one language
and department, distinct question texts of the report's window). Vectors are taken
in the caller's order, so the result is deterministic.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]


def greedy_clusters(vectors: Matrix, *, threshold: float) -> list[list[int]]:
    """Row indices of `vectors` per cluster, each list ascending; clusters in the
    order of their first member."""
    count = vectors.shape[0]
    labels = np.zeros(count, dtype=np.intp)
    sizes: list[int] = []
    for row in range(count):
        if sizes:
            similarities = vectors[:row] @ vectors[row]
            minima = np.full(len(sizes), np.inf)
            np.minimum.at(minima, labels[:row], similarities)
            means = (np.bincount(labels[:row], weights=similarities, minlength=len(sizes))
                     / np.asarray(sizes, dtype=np.float64))
            eligible = minima >= threshold
            if eligible.any():
                best = int(np.argmax(np.where(eligible, means, -np.inf)))
                labels[row] = best
                sizes[best] += 1
                continue
        labels[row] = len(sizes)
        sizes.append(1)
    return [[int(i) for i in np.flatnonzero(labels == cluster)] for cluster in range(len(sizes))]


def closest_to_centroid(vectors: Matrix, weights: npt.NDArray[np.float64] | None = None
                        ) -> list[int]:
    """Row indices ordered by cosine to the (weighted) centroid of the rows, closest
    first; ties keep input order."""
    if weights is None:
        weights = np.ones(vectors.shape[0])
    centroid = (vectors * weights[:, None]).sum(axis=0)
    similarities = vectors @ centroid  # the centroid's norm does not change the order
    return [int(i) for i in np.argsort(-similarities, kind="stable")]
