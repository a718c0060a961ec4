"""Fit the ranker's weights listwise on labelled questions (the OMoS-QA train split).

Loss: softmax cross-entropy of the correct document among a query's candidates,
weighted per question and averaged, plus a small L2 penalty; questions whose page is
not among the candidates carry no signal and are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from chatbot.evaluation.datasets import Question
from chatbot.retrieval.features import FEATURE_NAMES
from chatbot.retrieval.hybrid import HybridRetriever


def collect_training_lists(
    retriever: HybridRetriever,
    questions: Sequence[Question],
    language_of: Callable[[str], str | None],
) -> list[tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]]:
    return [(features, labels) for features, labels, _ in
            collect_labelled_lists(retriever, questions, language_of)]


def collect_labelled_lists(
    retriever: HybridRetriever,
    questions: Sequence[Question],
    language_of: Callable[[str], str | None],
) -> list[tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], Question]]:
    """Candidate features and labels of each question whose page is a candidate."""
    vectors = retriever.embedder.embed_queries([q.text for q in questions])
    lists = []
    for question, vector in zip(questions, vectors, strict=True):
        candidates = retriever.candidates(question.text, vector,
                                          query_lang=language_of(question.text))
        labels = np.array([d.split("\x1f")[0] == question.article_id
                           for d in candidates.documents])
        if labels.any():
            lists.append((candidates.features, labels, question))
    return lists


def fit_weights(
    lists: Sequence[tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]],
    *,
    l2: float = 1e-3,
    list_weights: Sequence[float] | None = None,
) -> dict[str, float]:
    """`list_weights` (default 1 each) weigh the questions; the L2 penalty is relative
    to their sum, so weights of 1 reproduce the plain average."""
    dimension = len(FEATURE_NAMES)
    weights = [1.0] * len(lists) if list_weights is None else list(list_weights)
    if len(weights) != len(lists):
        raise ValueError("one weight per training list")

    def loss(w: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        total = 0.5 * l2 * float(w @ w)
        grad = l2 * w
        for (features, labels), weight in zip(lists, weights, strict=True):
            scores = features @ w
            top = scores.max()
            exp = np.exp(scores - top)
            partition = exp.sum()
            p = exp / partition
            gold = np.log(exp[labels].sum()) + top
            total += weight * ((np.log(partition) + top) - gold)
            p_gold = exp * labels / exp[labels].sum()
            grad += weight * (features.T @ (p - p_gold))
        n = sum(weights)
        return total / n, grad / n

    result = minimize(loss, np.zeros(dimension), jac=True, method="L-BFGS-B")
    return {name: round(float(v), 5) for name, v in zip(FEATURE_NAMES, result.x, strict=True)}
