"""Greedy complete-linkage clustering on hand-made unit vectors."""

from __future__ import annotations

import numpy as np

from chatbot.editorial.clustering import closest_to_centroid, greedy_clusters


def unit(*values: float) -> list[float]:
    vector = np.array(values, dtype=np.float64)
    return list(vector / np.linalg.norm(vector))


def test_similar_vectors_cluster_and_others_stay_apart() -> None:
    vectors = np.array([unit(1, 0, 0), unit(0, 1, 0), unit(1, 0.1, 0), unit(0, 0, 1),
                        unit(1, 0, 0.05)], dtype=np.float32)
    assert greedy_clusters(vectors, threshold=0.9) == [[0, 2, 4], [1], [3]]


def test_a_vector_must_be_close_to_every_member_not_only_one() -> None:
    # b is close to a and to c, but a and c are not close: no chaining a-b-c.
    a, b, c = unit(1, 0), unit(1, 1), unit(0, 1)
    vectors = np.array([a, b, c], dtype=np.float32)
    assert float(np.dot(a, b)) > 0.7 > float(np.dot(a, c))
    assert greedy_clusters(vectors, threshold=0.7) == [[0, 1], [2]]


def test_the_closest_eligible_cluster_wins() -> None:
    vectors = np.array([unit(1, 0), unit(0, 1), unit(0.4, 1)], dtype=np.float32)
    assert greedy_clusters(vectors, threshold=0.3) == [[0], [1, 2]]


def test_no_vectors_no_clusters() -> None:
    assert greedy_clusters(np.zeros((0, 4), dtype=np.float32), threshold=0.5) == []


def test_closest_to_centroid_orders_members_and_respects_weights() -> None:
    vectors = np.array([unit(1, 0), unit(1, 1), unit(0, 1)], dtype=np.float32)
    assert closest_to_centroid(vectors)[0] == 1
    assert closest_to_centroid(vectors, np.array([10.0, 1.0, 1.0]))[0] == 0
