"""Split an article into retrieval chunks along headings and paragraphs.

Every chunk carries the article title (and its section heading) in the text that
is embedded, because a paragraph like "Die Gebühr beträgt 46 Euro." is only
findable together with what it is about.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from chatbot.corpus.models import Article

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True)
class Chunk:
    article_id: str
    lang: str
    position: int
    heading: str
    text: str
    """The section text shown to people (Markdown, without the title)."""
    passage: str
    """What is embedded: title, heading and text."""
    lexical: str
    """What the lexical index sees: the passage plus the article's keywords."""

    @property
    def chunk_id(self) -> str:
        return f"{self.article_id}.{self.lang}#{self.position}"

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.passage.encode("utf-8")).hexdigest()[:32]


def chunk_article(article: Article, *, max_chars: int = 600) -> list[Chunk]:
    keywords = " ".join(article.keywords)
    chunks: list[Chunk] = []
    for heading, text in _pack(_sections(article.body), max_chars):
        passage = "\n".join(part for part in (article.title, heading, text) if part)
        chunks.append(
            Chunk(
                article_id=article.id,
                lang=article.lang,
                position=len(chunks),
                heading=heading,
                text=text,
                passage=passage,
                lexical=f"{passage}\n{keywords}" if keywords else passage,
            )
        )
    return chunks


def _sections(body: str) -> list[tuple[str, list[str]]]:
    """(heading, paragraphs) in order; text before the first heading has heading ''."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            sections[-1][1].append("\n".join(paragraph).strip())
            paragraph.clear()

    for line in body.splitlines():
        heading = _HEADING.match(line)
        if heading:
            flush()
            sections.append((heading.group(2).strip(), []))
        elif line.strip():
            paragraph.append(line.rstrip())
        else:
            flush()
    flush()
    return [(h, paras) for h, paras in sections if paras]


def _pack(sections: list[tuple[str, list[str]]], max_chars: int) -> list[tuple[str, str]]:
    """Greedily join a section's paragraphs up to `max_chars`; never across headings."""
    packed: list[tuple[str, str]] = []
    for heading, paragraphs in sections:
        current = ""
        for piece in _split_long(paragraphs, max_chars):
            if current and len(current) + 2 + len(piece) > max_chars:
                packed.append((heading, current))
                current = piece
            else:
                current = f"{current}\n\n{piece}" if current else piece
        if current:
            packed.append((heading, current))
    return packed


def _split_long(paragraphs: list[str], max_chars: int) -> list[str]:
    pieces: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) <= max_chars:
            pieces.append(paragraph)
            continue
        current = ""
        for sentence in _SENTENCE_END.split(paragraph):
            if current and len(current) + 1 + len(sentence) > max_chars:
                pieces.append(current)
                current = sentence
            else:
                current = f"{current} {sentence}" if current else sentence
        if current:
            pieces.append(current)
    return pieces
