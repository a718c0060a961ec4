"""The listwise fit: per-question weights (originals count more than translations)."""

from __future__ import annotations

import numpy as np
import pytest

from chatbot.retrieval.features import FEATURE_NAMES
from chatbot.retrieval.fit import fit_weights

DIM = len(FEATURE_NAMES)


def _list(gold_feature: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    """Two candidates; the right one is high on `gold_feature`, the other on feature 1-x."""
    features = np.zeros((2, DIM))
    features[0, gold_feature] = 1.0
    features[1, 1 - gold_feature] = 1.0
    return features, np.array([True, False])


def test_unit_weights_reproduce_the_plain_fit() -> None:
    lists = [_list(0), _list(1), _list(0)]
    assert fit_weights(lists) == pytest.approx(fit_weights(lists, list_weights=[1, 1, 1]))


def test_a_heavier_question_pulls_the_fit_its_way() -> None:
    # Two questions disagree on which feature marks the right answer.
    lists = [_list(0), _list(1)]
    even = fit_weights(lists)
    favour_first = fit_weights(lists, list_weights=[5, 1])
    first, second = FEATURE_NAMES[0], FEATURE_NAMES[1]
    assert even[first] == pytest.approx(even[second], abs=1e-4)
    assert favour_first[first] > favour_first[second]


def test_one_weight_per_list() -> None:
    with pytest.raises(ValueError, match="one weight per training list"):
        fit_weights([_list(0)], list_weights=[1, 2])
