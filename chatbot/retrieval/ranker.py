"""A linear scorer over candidate features, trained listwise (softmax over a query's
candidates) on the OMoS-QA train split by `chatbot eval fit-ranker`; the weights
are part of the model profile (chatbot/model_profile.py).

The softmax of the scores is the probability that a document is the one that
answers the query, given that one of the candidates does; it is the hit's score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from chatbot.retrieval.features import FEATURE_NAMES


@dataclass(frozen=True)
class LinearRanker:
    weights: dict[str, float]
    trained_on: str = "hand-set"
    metrics: dict[str, float] = field(default_factory=dict)

    def scores(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        w = np.array([self.weights.get(name, 0.0) for name in FEATURE_NAMES])
        return np.asarray(features @ w, dtype=np.float64)

    @staticmethod
    def probabilities(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        shifted = np.exp(scores - scores.max())
        return np.asarray(shifted / shifted.sum(), dtype=np.float64)

    def as_dict(self) -> dict[str, Any]:
        return {"weights": self.weights, "trained_on": self.trained_on, "metrics": self.metrics}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearRanker:
        weights = {str(k): float(v) for k, v in data["weights"].items()}
        unknown = set(weights) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"ranker weights for unknown features: {', '.join(sorted(unknown))}")
        return cls(weights=weights, trained_on=str(data.get("trained_on", "")),
                   metrics=dict(data.get("metrics", {})))


# Baselines reported next to the shipped ranker in every evaluation run.
DENSE_ONLY = LinearRanker({"dense": 40.0}, trained_on="dense baseline")
LEXICAL_ONLY = LinearRanker({"lex_all": 20.0}, trained_on="BM25 baseline")
