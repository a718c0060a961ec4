"""Refuse to publish a build that lost what the current version serves.

A broken front matter silently drops an article's German version (the corpus
loader skips the file and reports it), and a corpus directory cut by a bad
checkout or sync still builds. Published, either degrades every running server
within seconds. So a build is compared with the current version before anything
is embedded: an article whose German version (the source every translation
follows) disappears, or counts that fall by more than the allowed share, stop
the build unless the caller forces it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from chatbot.corpus import Article, CorpusIssue
from chatbot.corpus.models import SOURCE_LANGUAGE
from chatbot.errors import ChatbotError, PublishRefusedError
from chatbot.index.store import IndexStore, read_manifest

ARTICLES_FILE = "articles.jsonl"
DEFAULT_MAX_SHRINK = 0.2
# Enough names to act on; the rest are counted.
NAMES_SHOWN = 10


@dataclass(frozen=True)
class IndexShape:
    """What the guard compares between the current version and a new build."""

    german_articles: frozenset[str]
    article_count: int
    document_count: int
    chunk_count: int
    chunk_chars: int


def shape_of_build(articles: Sequence[Article], *, chunk_count: int,
                   chunk_chars: int) -> IndexShape:
    return IndexShape(
        german_articles=frozenset(a.id for a in articles if a.lang == SOURCE_LANGUAGE),
        article_count=len({a.id for a in articles}),
        document_count=len(articles),
        chunk_count=chunk_count,
        chunk_chars=chunk_chars,
    )


def current_shape(store: IndexStore) -> tuple[str, IndexShape] | None:
    """The current version and its shape; None when there is none (a first build) or it
    cannot be read (then it serves nothing worth protecting)."""
    version = store.current_version()
    if version is None:
        return None
    directory = store.root / version
    try:
        manifest = read_manifest(directory)
        with (directory / ARTICLES_FILE).open(encoding="utf-8") as lines:
            records = [json.loads(line) for line in lines if line.strip()]
        german = frozenset(str(r["id"]) for r in records if r["lang"] == SOURCE_LANGUAGE)
    except (ChatbotError, OSError, ValueError, KeyError, TypeError):
        return None
    return version, IndexShape(
        german_articles=german,
        article_count=manifest.article_count,
        document_count=manifest.document_count,
        chunk_count=manifest.chunk_count,
        chunk_chars=manifest.chunk_chars,
    )


def check_publishable(*, current_version: str, current: IndexShape, new: IndexShape,
                      issues: Sequence[CorpusIssue], max_shrink: float) -> None:
    """Raise `PublishRefusedError` naming every lost German version and every count that
    fell by more than `max_shrink` (a share of the current count)."""
    problems = []
    lost = sorted(current.german_articles - new.german_articles)
    if lost:
        names = [_with_reason(article_id, issues) for article_id in lost[:NAMES_SHOWN]]
        more = f" and {len(lost) - NAMES_SHOWN} more" if len(lost) > NAMES_SHOWN else ""
        problems.append(f"the German version of {len(lost)} article(s) is missing: "
                        + ", ".join(names) + more)
    counts = [("articles", current.article_count, new.article_count),
              ("language versions", current.document_count, new.document_count)]
    # Another chunk size changes the chunk count by design; only compare like with like.
    if current.chunk_chars == new.chunk_chars:
        counts.append(("chunks", current.chunk_count, new.chunk_count))
    shrunk = [f"{name} {before} -> {after} (-{(before - after) / before:.0%})"
              for name, before, after in counts
              if before > 0 and (before - after) / before > max_shrink]
    if shrunk:
        problems.append(", ".join(shrunk) + " is more than CHATBOT_MAX_INDEX_SHRINK="
                        + f"{max_shrink:g} allows")
    if problems:
        raise PublishRefusedError(
            f"refused to publish the new index: compared to the current version "
            f"{current_version}, " + "; ".join(problems)
            + f"; nothing was published, {current_version} stays current")


def _with_reason(article_id: str, issues: Sequence[CorpusIssue]) -> str:
    """The article id, with the loader's reason when its German file was skipped."""
    file_name = f"{article_id}.{SOURCE_LANGUAGE}.md"
    for issue in issues:
        if PurePosixPath(issue.path).name == file_name:
            return f"{article_id} ({issue.path}: {issue.reason})"
    return article_id
