"""Features of each candidate document (an article language version) for one query.

Measured on OMoS-QA (DESIGN.md, README): raw cosine prefers documents in the
query's language; language-centred cosine (see `centering`) does not, but is a
little less precise within a language; BM25 helps within the query's language and
is noise across languages. The ranker weighs all of them, learned on train data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FEATURE_NAMES: tuple[str, ...] = (
    "centred",             # best chunk's language-centred cosine
    "centred_gap",         # centred minus the best document's centred (<= 0)
    "dense",               # best chunk's raw cosine
    "dense_gap",           # dense minus the best document's dense (<= 0)
    "same_lang",           # document language == query language
    "dense_same_gap",      # same_lang * (dense - best same-language dense)
    "dense_other_gap",     # other-language * (dense - best other-language dense)
    "centred_same_gap",    # as above, for centred cosine
    "centred_other_gap",
    "lex_same",            # BM25 in the query's language, / the query's best (0..1)
    "lex_same_log",        # log1p of that raw BM25
    "lex_all",             # folding-only BM25 over all languages, / best (0..1)
    "centred_rank",        # -log(1 + rank by centred cosine)
    "dense_rank",          # -log(1 + rank by raw cosine)
    "lex_same_rank",       # -log(1 + rank by BM25 in the query's language); unmatched: last
    "lex_all_rank",        # -log(1 + rank by all-language BM25); unmatched: last
    "dense_top2_gap",      # mean raw cosine of the two best chunks, minus the best document's
    "centred_top2_gap",    # as above, for centred cosine
    "log_chunks",          # log of the document's number of chunks
    "source_term",         # the query names the German title or keywords of a translated article
)

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class CandidateSet:
    documents: list[str]        # "article_id\x1flang"
    langs: list[str]
    features: npt.NDArray[np.float64]  # (n_candidates, len(FEATURE_NAMES))


def document_features(
    *,
    chunk_docs: npt.NDArray[np.str_],
    dense: Vector,
    centred: Vector,
    lex_same: Vector,
    lex_all: Vector,
    query_lang: str | None,
    max_documents: int = 80,
    total_documents: int | None = None,
    naming_source_terms: frozenset[str] = frozenset(),
) -> CandidateSet:
    """Per-document features from per-chunk scores (best chunk per document).

    The chunks may be those of the candidate documents only; `total_documents` (the
    index's count) then keeps the rank given to a document BM25 does not match what it
    is over the whole index. `naming_source_terms`: the articles whose German title or
    keywords the query names (`LoadedIndex.translated_articles_naming`)."""
    documents, inverse = np.unique(chunk_docs, return_inverse=True)
    n = len(documents)
    best_dense = _group_max(dense, inverse, n)
    best_centred = _group_max(centred, inverse, n)
    best_lex = np.maximum(_group_max(lex_same, inverse, n), 0.0)
    best_lex_all = np.maximum(_group_max(lex_all, inverse, n), 0.0)
    langs = np.array([str(d).split("\x1f")[1] for d in documents])
    same = langs == query_lang
    top2_dense = _group_top2_mean(dense, inverse, n)
    top2_centred = _group_top2_mean(centred, inverse, n)
    unmatched = np.log1p(total_documents if total_documents is not None else n)
    features = np.column_stack([
        best_centred,
        best_centred - best_centred.max(),
        best_dense,
        best_dense - best_dense.max(),
        same.astype(float),
        _gap_within(best_dense, same),
        _gap_within(best_dense, ~same),
        _gap_within(best_centred, same),
        _gap_within(best_centred, ~same),
        best_lex / best_lex.max() if best_lex.max() > 0 else np.zeros(n),
        np.log1p(best_lex),
        best_lex_all / best_lex_all.max() if best_lex_all.max() > 0 else np.zeros(n),
        -np.log1p(_ranks(best_centred)),
        -np.log1p(_ranks(best_dense)),
        np.where(best_lex > 0, -np.log1p(_ranks(best_lex)), -unmatched),
        np.where(best_lex_all > 0, -np.log1p(_ranks(best_lex_all)), -unmatched),
        top2_dense - top2_dense.max(),
        top2_centred - top2_centred.max(),
        np.log(np.bincount(inverse, minlength=n)),
        _named(documents, naming_source_terms),
    ])
    # Only documents near the top by some signal can win; the rest only cost time.
    matched = int((best_lex > 0).sum())
    keep = np.union1d(
        np.union1d(np.argsort(-best_centred)[:max_documents],
                   np.argsort(-best_dense)[: max_documents // 2]),
        np.argsort(-best_lex)[: min(max_documents // 2, matched)],
    )
    return CandidateSet(
        documents=[str(documents[i]) for i in keep],
        langs=[str(langs[i]) for i in keep],
        features=features[keep],
    )


def _named(documents: npt.NDArray[np.str_], named: frozenset[str]) -> npt.NDArray[np.float64]:
    """1 for the versions of the named articles. Most queries name none: no loop over
    every document then (200,000 in the largest synthetic benchmark corpus)."""
    if not named:
        return np.zeros(len(documents))
    return np.array([str(d).split("\x1f")[0] in named for d in documents], dtype=float)


def _group_max(values: Vector, groups: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.float64]:
    out = np.full(n, -np.inf)
    np.maximum.at(out, groups, values.astype(np.float64))
    return out


def _ranks(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """0 for the best score, 1 for the next, ..."""
    ranks = np.empty(len(scores))
    ranks[np.argsort(-scores, kind="stable")] = np.arange(len(scores))
    return ranks


def _group_top2_mean(values: Vector, groups: npt.NDArray[np.int64], n: int
                     ) -> npt.NDArray[np.float64]:
    """Per group, the mean of its two best values (a one-chunk group: its value)."""
    order = np.lexsort((-values, groups))
    ordered = values[order].astype(np.float64)
    members = groups[order]
    first = np.r_[True, members[1:] != members[:-1]]
    second = np.r_[False, first[:-1]] & ~first
    best = np.zeros(n)
    best[members[first]] = ordered[first]
    runner_up = best.copy()
    runner_up[members[second]] = ordered[second]
    return (best + runner_up) / 2


def _gap_within(scores: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_]
                ) -> npt.NDArray[np.float64]:
    if not mask.any():
        return np.zeros_like(scores)
    return np.where(mask, scores - scores[mask].max(), 0.0)
