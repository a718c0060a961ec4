"""Text embeddings: the `Embedder` protocol and its sentence-transformers implementation."""

from chatbot.embedding.base import Embedder
from chatbot.embedding.sentence_transformer import SentenceTransformerEmbedder, load_embedder

__all__ = ["Embedder", "SentenceTransformerEmbedder", "load_embedder"]
