"""Search: embed the query, generate candidate chunks densely and lexically, rank the
documents they belong to with the linear ranker, and fuse language versions per article.

Two stages: the top `candidate_chunks` chunks by raw cosine, by language-centred
cosine, by BM25 in the query's language and by BM25 over all languages name the
candidate documents (article language versions); only those get the ranker's features,
computed exactly over all their chunks. `exhaustive=True` scores every chunk and every
document instead (the reference the two-stage path is measured against: README,
Performance).
"""

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
CANDIDATE_CHUNKS = 100
"""Chunks per signal in the first stage. Measured with `python -m
chatbot.benchmarks.candidates` on both dev sets (README, Performance)."""


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
    source_term: float = 0.0
    """1 when the query names a word of the German version's title or keywords that names
    the article (see `LoadedIndex.names_source_term`), else 0."""
    coverage: float = 0.0
    """Share of the query's content terms found anywhere in the shown version."""
    title_coverage: float = 0.0
    """Share of the query's content terms found in the shown version's title and keywords."""
    sections: tuple[SectionScore, ...] = ()
    """How well each chunk of the shown version matches the query, for picking the passage."""


class HybridRetriever:
    def __init__(self, index: LoadedIndex, embedder: Embedder, ranker: LinearRanker, *,
                 exhaustive: bool = False, candidate_chunks: int = CANDIDATE_CHUNKS) -> None:
        self.index = index
        self.embedder = embedder
        self.ranker = ranker
        self.exhaustive = exhaustive
        self.candidate_chunks = candidate_chunks

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
        """Candidate features, and chunk scores to pick sections from."""
        index = self.index
        lex_all = index.lexical_scores(query, None)
        lex_same = (index.lexical_scores(query, query_lang) if query_lang
                    else np.zeros_like(lex_all))
        centred_query = index.centred_query(query_vector, query_lang)
        if self.exhaustive:
            rows = np.arange(len(index.chunks), dtype=np.intp)
            dense = index.dense_scores(query_vector)
            centred = index.centred_scores(query_vector, query_lang)
        else:
            n = self.candidate_chunks
            found = [index.dense_top(query_vector, n), index.centred_top(centred_query, n),
                     _top_positive(lex_all, n)]
            if query_lang:
                found.append(_top_positive(lex_same, n))
            documents = np.unique(index.chunk_document[np.concatenate(found)])
            rows = np.sort(index.rows_of_documents(documents))
            dense = index.dense_at(query_vector, rows)
            centred = index.centred_at(centred_query, rows)
        candidates = document_features(
            chunk_docs=index.chunk_docs[rows],
            dense=dense,
            centred=centred,
            lex_same=lex_same[rows],
            lex_all=lex_all[rows],
            query_lang=query_lang,
            total_documents=len(index.documents),
            naming_source_terms=index.translated_articles_naming(query),
        )
        return _ChunkScores(index, query_vector, centred_query, rows, dense, centred, lex_same,
                            candidates)

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
        candidates = scores.candidates
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
            dense = scores.dense_of(rows)
            row = int(rows[np.argmax(dense)])
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
                    centred=round(float(scores.centred_of(matched_rows).max()), 4),
                    # BM25 counts only in the query's language: when another version
                    # matched best, the shown version's text still holds the words.
                    lexical_raw=round(float(np.log1p(max(
                        0.0, float(scores.lex_same[matched_rows].max()),
                        float(scores.lex_same[rows].max())))), 4),
                    source_term=float(index.names_source_term(query, article_id)),
                    coverage=round(index.coverage(query_terms, article.id, article.lang), 4),
                    title_coverage=round(index.coverage(query_terms, article.id, article.lang,
                                                        title_only=True), 4),
                    sections=_section_scores(index, rows, dense, scores.lex_same[rows]),
                )
            )
        return hits



@dataclass(frozen=True)
class _ChunkScores:
    """Cosines of the scored `rows` (sorted; every chunk when exhaustive), BM25 in the
    query's language of every chunk, and the candidates' features. A chunk outside
    `rows` (another language version of a hit) is scored when asked for."""

    index: LoadedIndex
    query_vector: npt.NDArray[np.float32]
    centred_query: npt.NDArray[np.float32]
    rows: npt.NDArray[np.intp]
    dense: npt.NDArray[np.float32]
    centred: npt.NDArray[np.float32]
    lex_same: npt.NDArray[np.float32]
    candidates: CandidateSet

    def dense_of(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
        known = self._positions(rows)
        return self.dense[known] if known is not None else self.index.dense_at(
            self.query_vector, rows)

    def centred_of(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
        known = self._positions(rows)
        return self.centred[known] if known is not None else self.index.centred_at(
            self.centred_query, rows)

    def _positions(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.intp] | None:
        at = np.searchsorted(self.rows, rows)
        if len(rows) and (at.max() >= len(self.rows) or (self.rows[at] != rows).any()):
            return None
        return np.asarray(at, dtype=np.intp)


def _top_positive(scores: npt.NDArray[np.float32], n: int) -> npt.NDArray[np.intp]:
    """Rows of the (at most) `n` best positive scores, in no particular order."""
    matched = np.flatnonzero(scores > 0)
    if len(matched) > n:
        matched = matched[np.argpartition(-scores[matched], n - 1)[:n]]
    return np.asarray(matched, dtype=np.intp)


def _section_scores(index: LoadedIndex, rows: npt.NDArray[np.intp],
                    dense: npt.NDArray[np.float32], lex_same: npt.NDArray[np.float32]
                    ) -> tuple[SectionScore, ...]:
    """`dense` and `lex_same` are aligned with `rows`."""
    best_lex = float(lex_same.max()) if len(rows) else 0.0
    return tuple(
        SectionScore(heading=index.chunks[r].heading, position=index.chunks[r].position,
                     dense=round(float(d), 4),
                     lexical=round(float(x) / best_lex, 4) if best_lex > 0 else 0.0)
        for r, d, x in zip(rows, dense, lex_same, strict=True))


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    cut = flat[:SNIPPET_CHARS].rsplit(" ", 1)[0]
    return cut + " …"
