"""Retrieval quality: hit@1, hit@3, hit@5 and MRR per question group, for the shipped
hybrid ranking and the dense-only and BM25-only baselines, in the same run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from chatbot.evaluation.datasets import Question
from chatbot.retrieval.hybrid import HybridRetriever, SearchMode

LanguageOf = Callable[[str], str | None]


@dataclass
class Scores:
    n: int = 0
    hit1: float = 0.0
    hit3: float = 0.0
    hit5: float = 0.0
    mrr: float = 0.0

    def add(self, rank: int | None) -> None:
        self.n += 1
        if rank is not None:
            self.hit1 += rank == 1
            self.hit3 += rank <= 3
            self.hit5 += rank <= 5
            self.mrr += 1.0 / rank

    def means(self) -> dict[str, float]:
        n = max(self.n, 1)
        return {"n": self.n, "hit@1": self.hit1 / n, "hit@3": self.hit3 / n,
                "hit@5": self.hit5 / n, "mrr": self.mrr / n}


def evaluate_retrieval(
    retriever: HybridRetriever,
    questions: Sequence[Question],
    *,
    language_of: LanguageOf,
    modes: Sequence[SearchMode] = (SearchMode.HYBRID, SearchMode.DENSE, SearchMode.LEXICAL),
    depth: int = 20,
) -> dict[str, dict[str, dict[str, float]]]:
    """{mode: {group: metrics}}, with an 'all' group."""
    vectors = retriever.embedder.embed_queries([q.text for q in questions])
    langs = [language_of(q.text) for q in questions]
    results: dict[str, dict[str, dict[str, float]]] = {}
    for mode in modes:
        groups: dict[str, Scores] = defaultdict(Scores)
        for question, vector, lang in zip(questions, vectors, langs, strict=True):
            hits = retriever.search_embedded(question.text, vector, query_lang=lang,
                                             top_k=depth, mode=mode)
            ids = [h.article_id for h in hits]
            rank = ids.index(question.article_id) + 1 if question.article_id in ids else None
            groups[question.group].add(rank)
            groups["all"].add(rank)
        results[mode.value] = {g: s.means() for g, s in sorted(groups.items())}
    return results


def format_table(results: dict[str, dict[str, dict[str, float]]], metrics: Sequence[str]) -> str:
    groups = sorted({g for per_mode in results.values() for g in per_mode},
                    key=lambda g: (g != "all", g))
    header = "| method | metric | " + " | ".join(
        f"{g} (n={int(next(iter(results.values()))[g]['n'])})" for g in groups) + " |"
    lines = [header, "|" + "---|" * (len(groups) + 2)]
    for mode, per_group in results.items():
        for metric in metrics:
            cells = [f"{per_group[g][metric]:.3f}" if g in per_group else "" for g in groups]
            lines.append(f"| {mode} | {metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    return float(np.mean([1.0 / r if r else 0.0 for r in ranks])) if ranks else 0.0
