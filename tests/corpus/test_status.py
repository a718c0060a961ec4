"""Translation status: missing and stale language versions, as function and command."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from chatbot.cli import app
from chatbot.corpus import Article, load_corpus
from chatbot.corpus.status import translation_status
from tests.conftest import CORPUS_DIR


def article(article_id: str, lang: str, updated: str = "2026-10-01",
            source_revision: str | None = "2026-10-01") -> Article:
    return Article(id=article_id, lang=lang, title=f"{article_id} {lang}", department="amt",
                   updated=date.fromisoformat(updated), body="Text.",
                   path=f"amt/{article_id}.{lang}.md",
                   source_revision=None if lang == "de" or source_revision is None
                   else date.fromisoformat(source_revision))


def test_missing_and_stale_versions() -> None:
    statuses = translation_status([
        article("pass", "de", updated="2026-11-02"),
        article("pass", "en", source_revision="2026-11-02"),  # translates the newest German
        article("pass", "fr", source_revision="2026-10-01"),  # German changed since
        article("pass", "ku", updated="2026-11-05", source_revision="2026-11-03"),  # newer: ok
        article("hund", "de"),
        *(article("hund", lang) for lang in ("en", "fr", "it", "pl", "tr", "ku")),
        article("waise", "en"),  # no German source at all
    ])
    by_id = {s.article_id: s for s in statuses}
    assert [s.article_id for s in statuses] == ["hund", "pass", "waise"]
    assert by_id["pass"].missing == ["it", "pl", "tr"]
    assert by_id["pass"].stale == ["fr"]
    assert by_id["pass"].source_updated == "2026-11-02"
    assert by_id["hund"].complete
    assert by_id["waise"].missing == ["de", "fr", "it", "pl", "tr", "ku"]
    assert by_id["waise"].stale == []
    assert by_id["waise"].source_updated is None


def test_the_project_corpus_is_complete() -> None:
    statuses = translation_status(load_corpus(CORPUS_DIR).articles)
    assert len(statuses) == 48
    assert all(s.complete for s in statuses)


def test_corpus_status_command(write_article: Callable[..., Path], tmp_path: Path) -> None:
    write_article("reisepass", "de", extra="")
    write_article("reisepass", "en", front="id: reisepass\nlang: en\ntitle: Passport\n"
                  "department: amt\nupdated: 2026-10-02\nsource_revision: 2026-09-01\n")
    write_article("kaputt", "de", front="id: kaputt\n")
    runner = CliRunner()
    table = runner.invoke(app, ["corpus", "status", "--corpus", str(tmp_path / "corpus")])
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["article", "de", "updated", "de", "en", "fr", "it", "pl", "tr",
                                "ku"]
    assert lines[1].split() == ["reisepass", "2026-10-01", "ok", "old", "-", "-", "-", "-", "-"]
    assert lines[-1] == ("1 articles, 1 incomplete: 5 language version(s) missing, 1 stale")
    as_json = runner.invoke(app, ["corpus", "status", "--json",
                                  "--corpus", str(tmp_path / "corpus")])
    assert as_json.exit_code == 0
    data = json.loads(as_json.stdout)
    assert data["articles"][0]["stale"] == ["en"]
    assert data["file_errors"][0]["path"] == "amt/kaputt.de.md"


def test_corpus_status_of_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["corpus", "status", "--corpus", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: corpus directory {tmp_path / 'nope'} does not exist"
