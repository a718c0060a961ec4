"""Search: embed the query, score every chunk densely and lexically, rank the
candidate documents with the linear ranker, and fuse language versions per article."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from chatbot.embedding.base import Embedder
from chatbot.index.lexical import analyze
from chatbot.index.loaded import LoadedIndex
from chatbot.retrieval.features import FEATURE_NAMES, CandidateSet, document_features
from chatbot.retrieval.ranker import DENSE_ONLY, LEXICAL_ONLY, LinearRanker

SNIPPET_CHARS = 320


class SearchMode(StrEnum):
    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "bm25"


@dataclass(frozen=True)
class SectionScore:
    heading: str
    position: int
    dense: float
    lexical: float
    """BM25 of the chunk in the query's language, relative to the best chunk of the version."""


@dataclass(frozen=True)
class ArticleHit:
    article_id: str
    lang: str
    title: str
    department: str
    score: float
    """Probability-like confidence in [0, 1] that this article answers the query."""
    snippet: str
    heading: str
    section: str
    """The best-matching section of the shown language version (Markdown)."""
    url: str | None
    appointment_service: str | None
    dense: float
    lexical: float
    matched_lang: str
    """The language version whose text matched best (may differ from `lang`)."""
    centred: float = 0.0
    """Language-centred cosine of the best-matching version's best chunk."""
    lexical_raw: float = 0.0
    """log1p of the raw BM25 score in the query's language (not relative to other hits)."""
    coverage: float = 0.0
    """Share of the query's content terms found anywhere in the shown version."""
    title_coverage: float = 0.0
    """Share of the query's content terms found in the shown version's title and keywords."""
    sections: tuple[SectionScore, ...] = ()
    """How well each chunk of the shown version matches the query, for picking the passage."""


class HybridRetriever:
    def __init__(self, index: LoadedIndex, embedder: Embedder, ranker: LinearRanker) -> None:
        self.index = index
        self.embedder = embedder
        self.ranker = ranker

    def search(
        self,
        query: str,
        *,
        query_lang: str | None,
        top_k: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        prefer_lang: str | None = None,
    ) -> list[ArticleHit]:
        """Top articles; each shown in `prefer_lang` (default: the query language) when
        that version exists, else in the version that matched best."""
        query_vector = self.embedder.embed_queries([query])[0]
        return self.search_embedded(query, query_vector, query_lang=query_lang, top_k=top_k,
                                    mode=mode, prefer_lang=prefer_lang)

    def candidates(
        self, query: str, query_vector: npt.NDArray[np.float32], *, query_lang: str | None
    ) -> CandidateSet:
        return self._score(query, query_vector, query_lang).candidates

    def _score(
        self, query: str, query_vector: npt.NDArray[np.float32], query_lang: str | None
    ) -> _ChunkScores:
        """Candidate features, and every chunk's raw cosine and BM25 (to pick sections)."""
        index = self.index
        dense = index.dense_scores(query_vector)
        lex_same = index.lexical_scores(query, query_lang) if query_lang else np.zeros_like(dense)
        lex_all = index.lexical_scores(query, None)
        centred = index.centred_scores(query_vector, query_lang)
        candidates = document_features(
            chunk_docs=index.chunk_docs,
            dense=dense,
            centred=centred,
            lex_same=lex_same,
            lex_all=lex_all,
            query_lang=query_lang,
        )
        return _ChunkScores(candidates, dense, centred, lex_same)

    def search_embedded(
        self,
        query: str,
        query_vector: npt.NDArray[np.float32],
        *,
        query_lang: str | None,
        top_k: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        prefer_lang: str | None = None,
    ) -> list[ArticleHit]:
        index = self.index
        scores = self._score(query, query_vector, query_lang)
        candidates, dense = scores.candidates, scores.dense
        query_terms = set(analyze(query, query_lang)) if query_lang else set()
        ranker = {SearchMode.HYBRID: self.ranker, SearchMode.DENSE: DENSE_ONLY,
                  SearchMode.LEXICAL: LEXICAL_ONLY}[mode]
        probabilities = ranker.probabilities(ranker.scores(candidates.features))

        by_article: dict[str, list[int]] = {}
        for i, document in enumerate(candidates.documents):
            by_article.setdefault(document.split("\x1f")[0], []).append(i)
        ranked = sorted(by_article.items(),
                        key=lambda item: -sum(probabilities[i] for i in item[1]))
        shown_lang = prefer_lang or query_lang
        hits = []
        for article_id, members in ranked[:top_k]:
            top = max(members, key=lambda i: probabilities[i])
            matched_lang = candidates.langs[top]
            versions = index.article_versions(article_id)
            article = versions.get(shown_lang or "") or versions[matched_lang]
            rows = index.document_rows(article.id, article.lang)
            row = int(rows[np.argmax(dense[rows])])
            chunk = index.chunks[row]
            matched_rows = index.document_rows(article_id, matched_lang)
            hits.append(
                ArticleHit(
                    article_id=article_id,
                    lang=article.lang,
                    title=article.title,
                    department=article.department,
                    score=round(float(min(1.0, sum(probabilities[i] for i in members))), 4),
                    snippet=_snippet(chunk.text),
                    heading=chunk.heading,
                    section=chunk.text,
                    url=article.url,
                    appointment_service=article.appointment_service,
                    dense=round(float(candidates.features[top, FEATURE_NAMES.index("dense")]), 4),
                    lexical=round(float(candidates.features[top, FEATURE_NAMES.index("lex_same")]),
                                  4),
                    matched_lang=matched_lang,
                    centred=round(float(scores.centred[matched_rows].max()), 4),
                    lexical_raw=round(float(np.log1p(max(
                        0.0, float(scores.lex_same[matched_rows].max())))), 4),
                    coverage=round(index.coverage(query_terms, article.id, article.lang), 4),
                    title_coverage=round(index.coverage(query_terms, article.id, article.lang,
                                                        title_only=True), 4),
                    sections=_section_scores(index, rows, dense, scores.lex_same),
                )
            )
        return hits



@dataclass(frozen=True)
class _ChunkScores:
    candidates: CandidateSet
    dense: npt.NDArray[np.float32]
    centred: npt.NDArray[np.float32]
    lex_same: npt.NDArray[np.float32]


def _section_scores(index: LoadedIndex, rows: npt.NDArray[np.intp],
                    dense: npt.NDArray[np.float32], lex_same: npt.NDArray[np.float32]
                    ) -> tuple[SectionScore, ...]:
    best_lex = float(lex_same[rows].max()) if len(rows) else 0.0
    return tuple(
        SectionScore(heading=index.chunks[r].heading, position=index.chunks[r].position,
                     dense=round(float(dense[r]), 4),
                     lexical=round(float(lex_same[r]) / best_lex, 4) if best_lex > 0 else 0.0)
        for r in rows)


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    cut = flat[:SNIPPET_CHARS].rsplit(" ", 1)[0]
    return cut + " …"
