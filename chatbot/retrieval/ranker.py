"""A linear scorer over candidate features, trained listwise (softmax over a query's
candidates) on the OMoS-QA train split by `chatbot eval fit-ranker`.

The softmax of the scores is the probability that a document is the one that
answers the query, given that one of the candidates does; it is the hit's score.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chatbot.retrieval.features import FEATURE_NAMES

WEIGHTS_RESOURCE = "ranker_weights.json"


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

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"weights": self.weights, "trained_on": self.trained_on,
                                    "metrics": self.metrics}, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path | None = None) -> LinearRanker:
        if path is None:
            text = resources.files("chatbot.retrieval").joinpath(WEIGHTS_RESOURCE).read_text()
        else:
            text = path.read_text()
        data = json.loads(text)
        return cls(weights=data["weights"], trained_on=data.get("trained_on", ""),
                   metrics=data.get("metrics", {}))


# Baselines reported next to the shipped ranker in every evaluation run.
DENSE_ONLY = LinearRanker({"dense": 40.0}, trained_on="dense baseline")
LEXICAL_ONLY = LinearRanker({"lex_all": 20.0}, trained_on="BM25 baseline")
