"""Content gaps: the questions the chat could not serve, grouped so editors see
which articles are missing.

Questions (already masked, see `gap_questions`) are grouped by language and by the
department of the article the chat offered ("unknown" without one), then within a
group clustered by the cosine similarity of their query embeddings from the
server's own embedder. Each cluster reports how often it was asked and why, a
representative question (the one closest to the cluster's centroid), examples,
the articles the chat offered, and the nearest existing article (top search hit),
so an editor can tell a missing article from one that does not answer well.
Without an embedder, identical questions (after normalising case, accents and
punctuation) form the clusters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any, Literal

import numpy as np
from sqlalchemy.orm import Session

from chatbot.editorial.clustering import closest_to_centroid, greedy_clusters
from chatbot.editorial.gap_questions import (
    REASON_ESCALATED,
    REASON_NEGATIVE_FEEDBACK,
    REASON_UNSUPPORTED_LANGUAGE,
    GapQuestion,
    gap_questions,
)
from chatbot.editorial.vector_cache import query_vectors
from chatbot.embedding.base import Embedder
from chatbot.errors import ChatbotError
from chatbot.language import SUPPORTED_LANGUAGES
from chatbot.retrieval.service import SearchService
from chatbot.text import normalise

SIMILARITY_THRESHOLD = 0.86
"""Cosine (multilingual-e5-small, "query: " prompt) a question needs to *every*
member of a cluster to join it. Measured with the bundled model: paraphrases of one
question in one language mostly score 0.87-0.95, unrelated municipal questions
0.79-0.85 (at most 0.90). On a hand-written set of 27 paraphrases of 9 questions in
de/en/tr/fr, 0.86 kept 83% of paraphrase pairs together and merged no two questions;
0.87 kept only 62%. On the project's 672 questions (tests/data/questions.jsonl, 96
per language about 48 articles, all "how do I ... at the city": a hard case) 0.85
put about 30% more pairs about different articles into one cluster than 0.86.
Splitting one topic costs editors less than hiding one behind another. Another
model needs its own value: the `clustering_threshold` of its model profile."""
DEFAULT_EXAMPLES = 5
DEFAULT_LIMIT = 100

Similarity = Literal["embeddings", "exact"]


@dataclass(frozen=True)
class NearestArticle:
    article_id: str
    lang: str
    title: str
    score: float


@dataclass(frozen=True)
class ContentGap:
    language: str
    department: str
    count: int
    representative: str
    examples: list[str]
    escalated: int
    negative_feedback: int
    unsupported_language: int
    offered_articles: list[str]
    """Articles the chat answered with or escalated about, most frequent first."""
    first_seen: datetime
    last_seen: datetime
    nearest_article: NearestArticle | None = None

    def as_dict(self) -> dict[str, Any]:
        nearest = self.nearest_article
        return {
            "language": self.language, "department": self.department, "count": self.count,
            "representative": self.representative, "examples": list(self.examples),
            "escalated": self.escalated, "negative_feedback": self.negative_feedback,
            "unsupported_language": self.unsupported_language,
            "offered_articles": list(self.offered_articles),
            "first_seen": self.first_seen.isoformat(), "last_seen": self.last_seen.isoformat(),
            "nearest_article": None if nearest is None else {
                "article_id": nearest.article_id, "lang": nearest.lang,
                "title": nearest.title, "score": nearest.score},
        }


@dataclass(frozen=True)
class ContentGapReport:
    since: datetime | None
    language: str | None
    questions: int
    """Gap questions in the window (every occurrence)."""
    clusters: int
    """Clusters found; `gaps` holds the first `limit` of them."""
    similarity: Similarity
    threshold: float | None
    gaps: list[ContentGap]


def content_gap_report(session: Session, *, now: datetime, days: int | None = None,
                       language: str | None = None, embedder: Embedder | None = None,
                       search: SearchService | None = None,
                       threshold: float | None = None,
                       examples: int = DEFAULT_EXAMPLES, limit: int = DEFAULT_LIMIT
                       ) -> ContentGapReport:
    """The report over the last `days` (all stored conversations when None). The
    embedder defaults to the search service's, so clusters use the same embeddings
    as retrieval, and the threshold to its model profile's."""
    if days is not None and days < 1:
        raise ValueError("days must be at least 1")
    since = None if days is None else now - timedelta(days=days)
    questions = gap_questions(session, since=since, language=language)
    embedder = embedder or (search.embedder if search is not None else None)
    if threshold is None:
        threshold = (search.profile.clustering_threshold if search is not None
                     else SIMILARITY_THRESHOLD)
    gaps = cluster_gaps(questions, embedder=embedder, threshold=threshold, examples=examples)
    shown = gaps[:limit]
    if search is not None:
        shown = [_with_nearest(gap, search) for gap in shown]
    return ContentGapReport(
        since=since, language=language, questions=len(questions), clusters=len(gaps),
        similarity="embeddings" if embedder is not None else "exact",
        threshold=threshold if embedder is not None else None, gaps=shown)


def cluster_gaps(questions: Sequence[GapQuestion], *, embedder: Embedder | None,
                 threshold: float = SIMILARITY_THRESHOLD, examples: int = DEFAULT_EXAMPLES
                 ) -> list[ContentGap]:
    """Group by (language, department), cluster within a group, most asked first."""
    def group_key(q: GapQuestion) -> tuple[str, str]:
        return q.language, q.department

    gaps: list[ContentGap] = []
    for (language, department), grouped in groupby(sorted(questions, key=group_key),
                                                   key=group_key):
        group = list(grouped)
        # One entry per distinct text, most asked first: frequent questions seed clusters.
        by_text: dict[str, list[GapQuestion]] = {}
        for question in group:
            by_text.setdefault(question.text, []).append(question)
        texts = sorted(by_text, key=lambda t: (-len(by_text[t]),
                                               min(q.asked_at for q in by_text[t]), t))
        weights = np.array([len(by_text[t]) for t in texts], dtype=np.float64)
        if embedder is not None:
            # Cached: the same stored questions come back in every report.
            vectors = query_vectors.embed_queries(embedder, texts)
            clusters = greedy_clusters(vectors, threshold=threshold)
        else:
            vectors = np.eye(len(texts), dtype=np.float32)
            keys: dict[str, list[int]] = {}
            for row, text in enumerate(texts):
                keys.setdefault(normalise(text) or text, []).append(row)
            clusters = list(keys.values())
        for members in clusters:
            order = [members[i] for i in closest_to_centroid(vectors[members], weights[members])]
            gaps.append(_gap(language, department, [texts[i] for i in order], by_text,
                             examples))
    gaps.sort(key=lambda g: (-g.count, -g.last_seen.timestamp(), g.language, g.department,
                             g.representative))
    return gaps


def _gap(language: str, department: str, texts: list[str],
         by_text: dict[str, list[GapQuestion]], examples: int) -> ContentGap:
    asked = [q for text in texts for q in by_text[text]]
    reasons = Counter(reason for q in asked for reason in q.reasons)
    offered = Counter(q.article_id for q in asked if q.article_id)
    return ContentGap(
        language=language, department=department, count=len(asked),
        representative=texts[0], examples=texts[:examples],
        escalated=reasons[REASON_ESCALATED],
        negative_feedback=reasons[REASON_NEGATIVE_FEEDBACK],
        unsupported_language=reasons[REASON_UNSUPPORTED_LANGUAGE],
        offered_articles=[article for article, _n in offered.most_common()],
        first_seen=min(q.asked_at for q in asked), last_seen=max(q.asked_at for q in asked))


def _with_nearest(gap: ContentGap, search: SearchService) -> ContentGap:
    """The top search hit for the representative question; none for languages the
    chat does not support (a search in them says nothing) or when search fails."""
    if gap.language not in SUPPORTED_LANGUAGES:
        return gap
    try:
        hits = search.search(gap.representative, top_k=1, lang=gap.language).hits
    except ChatbotError:
        return gap
    if not hits:
        return gap
    hit = hits[0]
    nearest = NearestArticle(article_id=hit.article_id, lang=hit.lang, title=hit.title,
                             score=round(hit.score, 4))
    return replace(gap, nearest_article=nearest)
