"""Hybrid retrieval: dense + lexical evidence, ranked per language version, fused per article."""

from chatbot.retrieval.hybrid import ArticleHit, HybridRetriever, SearchMode, SectionScore
from chatbot.retrieval.ranker import LinearRanker

__all__ = ["ArticleHit", "HybridRetriever", "LinearRanker", "SearchMode", "SectionScore"]
