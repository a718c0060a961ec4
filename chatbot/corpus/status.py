"""Translation status: which language versions of each article are missing or stale.

German is the source. A translation is stale when the German revision it records
(`source_revision`) is older than the German version's `updated`: the German text
changed after it was translated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chatbot.corpus.models import LANGUAGES, SOURCE_LANGUAGE, Article


@dataclass(frozen=True)
class TranslationStatus:
    article_id: str
    department: str
    title: str
    source_updated: str | None = None
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    machine_translated: list[str] = field(default_factory=list)
    """Versions that are machine-translated drafts, not yet reviewed."""

    @property
    def complete(self) -> bool:
        return not self.missing and not self.stale

    def as_dict(self) -> dict[str, object]:
        return {"article_id": self.article_id, "department": self.department,
                "title": self.title, "source_updated": self.source_updated,
                "missing": list(self.missing), "stale": list(self.stale),
                "machine_translated": list(self.machine_translated),
                "complete": self.complete}


def translation_status(articles: Iterable[Article]) -> list[TranslationStatus]:
    """One entry per article id, sorted by id, from `load_corpus(...).articles`."""
    by_id: dict[str, dict[str, Article]] = {}
    for article in articles:
        by_id.setdefault(article.id, {})[article.lang] = article
    result = []
    for article_id in sorted(by_id):
        versions = by_id[article_id]
        source = versions.get(SOURCE_LANGUAGE)
        # Without the German version there is no revision to compare against, so
        # only what is missing can be said; the German gap itself is listed.
        shown = source or next(iter(versions.values()))
        stale = [] if source is None else [
            lang for lang in LANGUAGES
            if lang != SOURCE_LANGUAGE and lang in versions and _is_stale(versions[lang], source)
        ]
        result.append(TranslationStatus(
            article_id=article_id, department=shown.department, title=shown.title,
            source_updated=source.updated.isoformat() if source else None,
            missing=[lang for lang in LANGUAGES if lang not in versions],
            stale=stale,
            machine_translated=[lang for lang in LANGUAGES
                                if lang in versions and versions[lang].machine_translated],
        ))
    return result


def _is_stale(translation: Article, source: Article) -> bool:
    revision = translation.source_revision
    return revision is None or revision < source.updated
