"""How many candidate chunks per signal the two-stage search needs: MRR of the
shipped ranker on the dev questions, exhaustive vs two-stage with several N, the
share of questions whose top article is the exhaustive one, and the search time.

    python -m chatbot.benchmarks.candidates [--sizes 25,50,100,200] [--work-dir DIR]
        [--omos-pages FILE --omos-questions FILE]

The indexes are the evaluation's (`chatbot eval retrieval`), cached in `--work-dir`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from chatbot.evaluation.datasets import Question

DEFAULT_SIZES = (25, 50, 100, 200)


@dataclass(frozen=True)
class Row:
    dataset: str
    setting: str
    mrr: float
    top1_agreement: float
    p50_ms: float
    p95_ms: float


def measure(retriever_for: object, questions: list[Question], vectors: object,
            langs: list[str | None], dataset: str, sizes: list[int]) -> list[Row]:
    from chatbot.retrieval.hybrid import HybridRetriever

    assert callable(retriever_for)
    rows: list[Row] = []
    reference: list[str | None] = []
    for setting in ["exhaustive", *map(str, sizes)]:
        retriever: HybridRetriever = retriever_for(setting)
        reciprocal, top, millis = [], [], []
        for question, vector, lang in zip(questions, vectors, langs, strict=True):  # type: ignore[call-overload]
            start = time.perf_counter()
            hits = retriever.search_embedded(question.text, vector, query_lang=lang, top_k=20)
            millis.append((time.perf_counter() - start) * 1000)
            ids = [h.article_id for h in hits]
            reciprocal.append(1 / (ids.index(question.article_id) + 1)
                              if question.article_id in ids else 0.0)
            top.append(ids[0] if ids else None)
        if setting == "exhaustive":
            reference = top
        agreement = sum(a == b for a, b in zip(top, reference, strict=True)) / len(top)
        rows.append(Row(dataset, setting, statistics.fmean(reciprocal), agreement,
                        statistics.median(millis), _p95(millis)))
    return rows


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--questions", type=Path, default=Path("tests/data/questions.jsonl"))
    parser.add_argument("--omos-pages", type=Path, default=None)
    parser.add_argument("--omos-questions", type=Path, default=None)
    parser.add_argument("--no-project", action="store_true", help="OMoS-QA only")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]

    from chatbot.config import get_settings
    from chatbot.embedding import load_embedder
    from chatbot.evaluation.datasets import load_questions
    from chatbot.evaluation.runner import corpus_index, language_of, omos_index
    from chatbot.index import LoadedIndex
    from chatbot.model_profile import load_model_profile
    from chatbot.retrieval.hybrid import HybridRetriever

    settings = get_settings()
    embedder = load_embedder(settings)
    profile = load_model_profile(embedder.model_id, settings.model_profile)
    datasets: list[tuple[str, LoadedIndex, Path, dict[str, str] | None]] = []
    if not args.no_project:
        corpus = corpus_index(settings, embedder, args.work_dir, profile.query_centroids)
        datasets.append(("project dev", corpus, args.questions, None))
    if args.omos_pages and args.omos_questions:
        omos, omos_langs = omos_index(settings, embedder, args.omos_pages, args.work_dir,
                                      profile.query_centroids)
        datasets.append(("OMoS-QA dev", omos, args.omos_questions, omos_langs))
    rows: list[Row] = []
    for name, index, path, page_langs in datasets:
        questions = load_questions(path, page_langs, split="dev" if page_langs is None else None)
        vectors = embedder.embed_queries([q.text for q in questions])
        detect = language_of(questions, True)
        langs = [detect(q.text) for q in questions]

        def retriever_for(setting: str, index: LoadedIndex = index) -> HybridRetriever:
            if setting == "exhaustive":
                return HybridRetriever(index, embedder, profile.ranker, exhaustive=True)
            return HybridRetriever(index, embedder, profile.ranker,
                                   candidate_chunks=int(setting))

        rows += measure(retriever_for, questions, vectors, langs,
                        f"{name} ({index.manifest.chunk_count} chunks)", sizes)
    print("| dev set | candidates per signal | MRR | top-1 = exhaustive | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row.dataset} | {row.setting} | {row.mrr:.3f} | {row.top1_agreement:.3f} | "
              f"{row.p50_ms:.1f} | {row.p95_ms:.1f} |")
    if args.json:
        args.json.write_text(json.dumps([row.__dict__ for row in rows], indent=2))


if __name__ == "__main__":
    main()
