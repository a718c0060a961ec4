"""Fill missing or stale article versions with machine-translated drafts.

A draft is an ordinary corpus file with `machine_translated: true` in its front matter
and `source_revision` set to the German `updated` it was made from, so the corpus
contract holds and it ingests like any other version. The chat says that such an
answer was machine-translated; editors see it as a draft until they review it and
remove the flag. A stale curated translation is kept unless the operator asks for it
to be replaced; a stale machine draft is simply made again. German versions are never
machine-made: German is the source every translation records its revision of.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from chatbot.corpus.loader import load_corpus, parse_article
from chatbot.corpus.models import LANGUAGES, SOURCE_LANGUAGE, Article
from chatbot.errors import CorpusError
from chatbot.translation.base import Pair, TranslationError, Translator, find_route

_LINE_PREFIX = re.compile(r"^(\s*(?:#{1,6}|[-*+]|\d+[.)]|>)\s+)(.*)$")
_LINK = re.compile(r"(\[)([^\]]+)(\]\([^)\s]+\))")
_VERBATIM = re.compile(r"^\s*(?:```|~~~|\||<|!\[|https?://\S+$)")


@dataclass(frozen=True)
class Draft:
    article_id: str
    lang: str
    path: str
    route: tuple[str, ...]
    replaced: bool


@dataclass
class FillReport:
    written: list[Draft] = field(default_factory=list)
    no_model: dict[Pair, list[str]] = field(default_factory=dict)
    """(source, target) without a direct model or an English pivot -> article ids."""
    kept_curated: list[tuple[str, str]] = field(default_factory=list)
    """Stale curated translations left alone: (article id, lang)."""
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    """(article id, lang, why) for translations made but not written."""

    @property
    def complete(self) -> bool:
        return not self.no_model and not self.failed


def fill_missing(corpus_dir: Path, translator: Translator, *,
                 languages: Sequence[str] = LANGUAGES, overwrite_curated: bool = False,
                 today: date | None = None) -> FillReport:
    """Write a draft for every missing or stale version in `languages`."""
    loaded = load_corpus(corpus_dir)
    pairs = translator.pairs()
    report = FillReport()
    today = today or date.today()
    for versions in _by_id(loaded.articles).values():
        source = versions.get(SOURCE_LANGUAGE) or versions.get("en") \
            or next(iter(versions.values()))
        for lang in languages:
            # German is the source: a German draft would turn curated versions of an
            # article written elsewhere into translations lacking a source_revision.
            if lang in (source.lang, SOURCE_LANGUAGE):
                continue
            existing = versions.get(lang)
            if existing is not None and not _stale(existing, source):
                continue
            if existing is not None and not existing.machine_translated \
                    and not overwrite_curated:
                report.kept_curated.append((source.id, lang))
                continue
            route = find_route(pairs, source.lang, lang)
            if route is None:
                report.no_model.setdefault((source.lang, lang), []).append(source.id)
                continue
            try:
                text = render_draft(source, lang, route, translator, today=today)
            except TranslationError as exc:
                report.failed.append((source.id, lang, str(exc)))
                continue
            path = corpus_dir / source.department / f"{source.id}.{lang}.md"
            problem = _write_checked(path, text, corpus_dir)
            if problem:
                report.failed.append((source.id, lang, problem))
                continue
            report.written.append(Draft(
                source.id, lang, path.relative_to(corpus_dir).as_posix(),
                (route[0][0], *(target for _, target in route)), existing is not None))
    return report


def render_draft(source: Article, lang: str, route: Sequence[Pair], translator: Translator,
                 *, today: date) -> str:
    """The whole draft file: front matter, then the translated Markdown body."""

    def tr(text: str) -> str:
        for pair_source, pair_target in route:
            text = translator.translate(text, source=pair_source, target=pair_target)
        return text

    title = _one_line(tr(source.title))
    body = translate_markdown(source.body, tr)
    if not title or not body.strip():
        raise TranslationError(f"the model returned no text for {source.id} "
                               f"({source.lang}→{lang})")
    meta: dict[str, Any] = {"id": source.id, "lang": lang, "title": title,
                            "department": source.department, "updated": today.isoformat()}
    if source.url:
        meta["url"] = source.url
    keywords = [_one_line(tr(k)) for k in source.keywords]
    if any(keywords):
        meta["keywords"] = [k for k in keywords if k]
    if source.appointment_service:
        meta["appointment_service"] = source.appointment_service
    meta["source_revision"] = (source.updated if source.lang == SOURCE_LANGUAGE
                               else source.source_revision or source.updated).isoformat()
    if source.summary:
        summary = _one_line(tr(source.summary))
        if summary:
            meta["summary"] = summary
    meta["machine_translated"] = True
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1_000_000)
    via = " → ".join((route[0][0], *(target for _, target in route)))
    return (f"---\n{front}---\n<!-- Machine-translated draft ({via}); review it, then "
            f"remove `machine_translated`. -->\n\n{body.strip()}\n")


def translate_markdown(body: str, tr: Any) -> str:
    """Translate line by line: headings, list markers, links' targets, code blocks and
    tables stay as they are; only the text is translated."""
    out = []
    in_code = False
    for line in body.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            out.append(line)
            continue
        if in_code or not line.strip() or _VERBATIM.match(line):
            out.append(line)
            continue
        match = _LINE_PREFIX.match(line)
        prefix, text = (match.group(1), match.group(2)) if match else ("", line)
        out.append(prefix + _translate_with_links(text, tr))
    return "\n".join(out)


def _translate_with_links(text: str, tr: Any) -> str:
    pieces = []
    last = 0
    for link in _LINK.finditer(text):
        before = text[last:link.start()]
        if before.strip():
            pieces.append(_one_line(tr(before.strip())))
        pieces.append(f"[{_one_line(tr(link.group(2))) or link.group(2)}{link.group(3)}")
        last = link.end()
    if text[last:].strip():
        pieces.append(_one_line(tr(text[last:].strip())))
    return " ".join(piece for piece in pieces if piece)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _write_checked(path: Path, text: str, corpus_dir: Path) -> str | None:
    """Write `path` atomically and check that it loads as a valid article; a draft that
    does not is removed again (the previous file, if any, is restored)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = path.read_bytes() if path.exists() else None
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)
    try:
        parse_article(path, corpus_dir)
    except CorpusError as exc:
        if previous is None:
            path.unlink()
        else:
            path.write_bytes(previous)
        return f"the draft would not load: {exc}"
    return None


def _by_id(articles: Iterable[Article]) -> dict[str, dict[str, Article]]:
    by_id: dict[str, dict[str, Article]] = {}
    for article in articles:
        by_id.setdefault(article.id, {})[article.lang] = article
    return by_id


def _stale(translation: Article, source: Article) -> bool:
    if source.lang != SOURCE_LANGUAGE:
        return False
    return translation.source_revision is None or translation.source_revision < source.updated
