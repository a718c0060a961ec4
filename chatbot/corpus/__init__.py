"""Reading, validating and chunking the knowledge corpus."""

from chatbot.corpus.chunking import Chunk, chunk_article
from chatbot.corpus.loader import load_corpus
from chatbot.corpus.models import LANGUAGES, Article, CorpusIssue, CorpusLoad

__all__ = [
    "LANGUAGES",
    "Article",
    "Chunk",
    "CorpusIssue",
    "CorpusLoad",
    "chunk_article",
    "load_corpus",
]
