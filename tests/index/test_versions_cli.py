"""`chatbot index list` and `chatbot index rollback`, and the versions they describe."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from chatbot.cli import app
from chatbot.index import IndexStore, build_index
from chatbot.index.store import describe_versions
from tests.conftest import FakeEmbedder


def three_versions(write_article: Callable[..., Path], tmp_path: Path) -> list[str]:
    write_article("kaputt", "de", front="id: kaputt\n")
    versions = []
    for i in range(3):
        write_article(f"artikel-{i}", "de", body=f"Fassung {i}.")
        result = build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "idx"),
                             embedder=FakeEmbedder())
        versions.append(result.manifest.version)
    return versions


def test_list_marks_the_current_version(write_article: Callable[..., Path],
                                        tmp_path: Path) -> None:
    versions = three_versions(write_article, tmp_path)
    result = CliRunner().invoke(app, ["index", "list", "--index", str(tmp_path / "idx")])
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()[1:]
    assert [r.lstrip("* ").split()[0] for r in rows] == versions
    assert rows[-1].startswith("* ")
    assert rows[-1].split()[3:] == ["3", "3", "3", "1"]  # articles, versions, chunks, errors
    as_json = json.loads(CliRunner().invoke(
        app, ["index", "list", "--json", "--index", str(tmp_path / "idx")]).stdout)
    assert [v["current"] for v in as_json] == [False, False, True]
    assert as_json[0]["article_count"] == 1
    assert as_json[0]["built_at"]


def test_rollback_switches_the_pointer(write_article: Callable[..., Path],
                                       tmp_path: Path) -> None:
    versions = three_versions(write_article, tmp_path)
    store = IndexStore(tmp_path / "idx")
    result = CliRunner().invoke(app, ["index", "rollback", versions[0],
                                      "--index", str(tmp_path / "idx")])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"current index version: {versions[0]} (was {versions[2]})"
    assert store.current_version() == versions[0]
    assert [i.current for i in describe_versions(store)] == [True, False, False]
    # A build after a rollback starts from the rolled-back version and keeps the others.
    build_index(corpus_dir=tmp_path / "corpus", store=store, embedder=FakeEmbedder())
    assert len(store.versions()) == 4


def test_rollback_to_an_unknown_version_is_a_clear_error(write_article: Callable[..., Path],
                                                         tmp_path: Path) -> None:
    versions = three_versions(write_article, tmp_path)
    for bad in ("v19990101T000000000000Z", "../idx", ".building-x", "CURRENT"):
        result = CliRunner().invoke(app, ["index", "rollback", bad,
                                          "--index", str(tmp_path / "idx")])
        assert result.exit_code == 2, (bad, result.output)
        assert result.stderr.startswith(f"error: unknown index version {bad!r}")
        assert "Traceback" not in result.output
    assert IndexStore(tmp_path / "idx").current_version() == versions[2]


def test_list_without_versions(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["index", "list", "--index", str(tmp_path / "none")])
    assert result.exit_code == 0
    assert "chatbot ingest" in result.stdout
