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
) -> CandidateSet:
    """Per-document features from per-chunk scores (best chunk per document)."""
    documents, inverse = np.unique(chunk_docs, return_inverse=True)
    n = len(documents)
    best_dense = _group_max(dense, inverse, n)
    best_centred = _group_max(centred, inverse, n)
    best_lex = np.maximum(_group_max(lex_same, inverse, n), 0.0)
    best_lex_all = np.maximum(_group_max(lex_all, inverse, n), 0.0)
    langs = np.array([str(d).split("\x1f")[1] for d in documents])
    same = langs == query_lang
    centred_rank = np.empty(n)
    centred_rank[np.argsort(-best_centred)] = np.arange(n)
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
        -np.log1p(centred_rank),
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


def _group_max(values: Vector, groups: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.float64]:
    out = np.full(n, -np.inf)
    np.maximum.at(out, groups, values.astype(np.float64))
    return out


def _gap_within(scores: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_]
                ) -> npt.NDArray[np.float64]:
    if not mask.any():
        return np.zeros_like(scores)
    return np.where(mask, scores - scores[mask].max(), 0.0)
