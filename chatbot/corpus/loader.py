"""Load `<department>/<id>.<lang>.md` files: YAML front matter, then Markdown.

A broken file is reported with its path and reason and skipped; the others load.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from chatbot.corpus.models import LANGUAGES, SOURCE_LANGUAGE, Article, CorpusIssue, CorpusLoad
from chatbot.errors import CorpusError

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n?(.*)\Z", re.DOTALL)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED = ("id", "lang", "title", "department", "updated")
_TEXT_FIELDS = ("id", "lang", "title", "department", "appointment_service")


class _InvalidArticleError(Exception):
    pass


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: PyYAML raises a bare ValueError on an
    impossible date such as 2026-13-45, and we want to name the field instead."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_corpus(corpus_dir: Path) -> CorpusLoad:
    """Every valid article below `corpus_dir`, plus one issue per rejected file."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus directory {corpus_dir} does not exist")
    result = CorpusLoad()
    seen: dict[tuple[str, str], str] = {}
    for path in sorted(corpus_dir.rglob("*.md")):
        relative = path.relative_to(corpus_dir).as_posix()
        if len(path.relative_to(corpus_dir).parts) != 2 or path.name.lower() == "readme.md":
            continue  # documentation files, not articles
        try:
            article = _parse_file(path, relative)
        except _InvalidArticleError as problem:
            result.issues.append(CorpusIssue(relative, str(problem)))
            continue
        first = seen.get((article.id, article.lang))
        if first is not None:
            result.issues.append(
                CorpusIssue(relative, f"duplicate id {article.id!r} in {article.lang!r}; "
                            f"already defined in {first}")
            )
            continue
        seen[(article.id, article.lang)] = relative
        result.articles.append(article)
    return _require_source_revisions(result)


def parse_article(path: Path, corpus_dir: Path) -> Article:
    """One article file checked on its own (not against the other versions)."""
    try:
        return _parse_file(path, path.relative_to(corpus_dir).as_posix())
    except _InvalidArticleError as problem:
        raise CorpusError(f"{path.relative_to(corpus_dir).as_posix()}: {problem}") from problem


def _require_source_revisions(loaded: CorpusLoad) -> CorpusLoad:
    """A translation must name the German revision it follows; an article that exists
    only in other languages is its own source (translation status shows German as
    missing)."""
    german = {a.id for a in loaded.articles if a.lang == SOURCE_LANGUAGE}
    kept = []
    for article in loaded.articles:
        if (article.lang != SOURCE_LANGUAGE and article.source_revision is None
                and article.id in german):
            loaded.issues.append(CorpusIssue(
                article.path, "missing field(s): source_revision (the German `updated` "
                "this translation follows)"))
        else:
            kept.append(article)
    loaded.articles = kept
    return loaded


def _parse_file(path: Path, relative: str) -> Article:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _InvalidArticleError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if match is None:
        raise _InvalidArticleError("no front matter: the file must start with a '---' block")
    try:
        meta = yaml.load(match.group(1), Loader=_FrontMatterLoader)
    except yaml.YAMLError as exc:
        raise _InvalidArticleError(f"front matter is not valid YAML: {_yaml_problem(exc)}") from exc
    except RecursionError as exc:  # PyYAML's parser recurses once per nesting level
        raise _InvalidArticleError("front matter is nested too deeply") from exc
    if not isinstance(meta, dict):
        raise _InvalidArticleError("front matter must be a mapping of fields")
    return _build_article(meta, match.group(2).strip(), path, relative)


def _build_article(meta: dict[str, Any], body: str, path: Path, relative: str) -> Article:
    missing = [name for name in _REQUIRED if meta.get(name) in (None, "")]
    if missing:
        raise _InvalidArticleError(f"missing field(s): {', '.join(missing)}")
    not_text = [name for name in _TEXT_FIELDS
                if meta.get(name) is not None and not isinstance(meta[name], str | int | float)]
    if not_text:
        # A list or mapping here is a mistake, and printing one could take forever
        # (YAML aliases can nest a billion items in a few lines).
        raise _InvalidArticleError(f"field(s) must be a text: {', '.join(not_text)}")
    article_id = str(meta["id"])
    lang = str(meta["lang"])
    if lang not in LANGUAGES:
        raise _InvalidArticleError(
            f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    if not _ID.match(article_id):
        raise _InvalidArticleError(f"id {article_id!r} must be lowercase words joined by '-'")
    expected_name = f"{article_id}.{lang}.md"
    if path.name != expected_name:
        raise _InvalidArticleError(f"file name must be {expected_name} for id {article_id!r} "
                              f"and lang {lang!r}")
    department = str(meta["department"])
    if department != path.parent.name:
        raise _InvalidArticleError(f"department {department!r} does not match its folder "
                              f"{path.parent.name!r}")
    if not body:
        raise _InvalidArticleError("empty body: the article has no text after the front matter")
    source_revision = _optional_date(meta, "source_revision")
    summary = meta.get("summary")
    if summary is not None and not (isinstance(summary, str) and summary.strip()):
        raise _InvalidArticleError("summary must be a non-empty text")
    keywords = meta.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str | int) for k in keywords):
        raise _InvalidArticleError("keywords must be a list of words")
    url = meta.get("url")
    if url is not None and not (isinstance(url, str) and re.match(r"^https?://\S+$", url)):
        raise _InvalidArticleError(f"url {url!r} must be an http(s) address")
    service = meta.get("appointment_service")
    machine_translated = meta.get("machine_translated", False)
    if not isinstance(machine_translated, bool):
        raise _InvalidArticleError("machine_translated must be true or false")
    return Article(
        id=article_id,
        lang=lang,
        title=str(meta["title"]).strip(),
        department=department,
        updated=_required_date(meta, "updated"),
        body=body,
        path=relative,
        url=url,
        keywords=tuple(str(k) for k in keywords),
        appointment_service=str(service) if service else None,
        source_revision=source_revision,
        summary=summary.strip() if isinstance(summary, str) else None,
        machine_translated=machine_translated,
    )


def _required_date(meta: dict[str, Any], name: str) -> date:
    value = _optional_date(meta, name)
    if value is None:
        raise _InvalidArticleError(f"missing field(s): {name}")
    return value


def _optional_date(meta: dict[str, Any], name: str) -> date | None:
    value = meta.get(name)
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise _InvalidArticleError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        # +2: the front matter starts after the opening '---' line; marks are 0-based.
        return f"{problem} (line {mark.line + 2})"
    return str(problem)
