"""The `chatbot` command: real runs for the happy path, one clean line for mistakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chatbot.cli", *args], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, **(env or {})}, timeout=300)


def test_ingest_reports_a_missing_corpus_in_one_line(tmp_path: Path) -> None:
    result = run_cli("ingest", "--corpus", str(tmp_path / "missing"), "--index",
                     str(tmp_path / "idx"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: corpus directory {tmp_path / 'missing'} does not exist"]


def test_search_without_index_says_how_to_build_one(tmp_path: Path) -> None:
    result = run_cli("search", "Reisepass", env={"CHATBOT_INDEX_DIR": str(tmp_path / "none")})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "chatbot ingest" in result.stderr


def test_empty_query_is_refused(tmp_path: Path) -> None:
    result = run_cli("search", "  ")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: query must not be empty"


def test_invalid_setting_is_named() -> None:
    result = run_cli("search", "x", env={"CHATBOT_CHUNK_CHARS": "many"})
    assert result.returncode == 2
    assert "chunk_chars" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_ingest_then_search_as_json(corpus_index_dir: Path, tmp_path: Path) -> None:
    # Reuse the session's corpus index so this stays one model load per process.
    result = run_cli("search", "Wie melde ich meinen Hund an?", "--json", "--top-k", "2",
                     env={"CHATBOT_INDEX_DIR": str(corpus_index_dir)})
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["language"]["code"] == "de"
    assert body["hits"][0]["article_id"] == "hund-anmelden-hundesteuer"
    assert len(body["hits"]) == 2


@pytest.mark.slow
def test_ingest_builds_and_skips_when_up_to_date(write_article, tmp_path: Path) -> None:
    write_article("reisepass", "de")
    write_article("kaputt", "de", body="")
    args = ["ingest", "--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "idx")]
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert "1 articles" in first.stdout
    assert "skipped amt/kaputt.de.md: empty body" in first.stderr
    # Not a terminal: one progress line per stage instead of a progress bar.
    assert "loading corpus" in first.stderr
    assert "embedding: 1 to do" in first.stderr
    second = run_cli(*args, "--if-stale")
    assert second.returncode == 0
    assert "is up to date" in second.stdout


@pytest.mark.parametrize(("content", "message"), [
    (None, "error: cannot read {path}"),
    ('{"lang": "de", "question": "Reisepass?"}\nnot json\n', "error: {path}:2: not JSON"),
])
def test_an_unreadable_evaluation_file_is_one_line_before_the_model_loads(
        tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "questions.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = run_cli("eval", "chat", "--questions", str(path), "--out-of-scope", str(path),
                     env={"CHATBOT_INDEX_DIR": str(tmp_path / "none")})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(message.format(path=path))


def test_retrieval_questions_without_an_article_are_one_line_or_skipped(
        tmp_path: Path) -> None:
    from chatbot.evaluation.datasets import load_questions

    path = tmp_path / "questions.jsonl"
    # Blind questions that no article answers (out of scope, unanswerable) have nothing
    # to retrieve; any other question without its article is a mistake in the file.
    path.write_text('{"lang": "de", "question": "Wetter?", "in_scope": false}\n'
                    '{"lang": "de", "question": "Pass?", "article_id": "reisepass"}\n',
                    encoding="utf-8")
    assert [q.article_id for q in load_questions(path)] == ["reisepass"]
    path.write_text('{"lang": "de", "question": "Pass?"}\n', encoding="utf-8")
    result = run_cli("eval", "retrieval", "--questions", str(path),
                     env={"CHATBOT_INDEX_DIR": str(tmp_path / "none")})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {path}: question 1 has no article_id")
    # a split the file does not have is a mistake too, not an empty table
    path.write_text('{"lang": "de", "question": "Pass?", "article_id": "reisepass", '
                    '"split": "train"}\n', encoding="utf-8")
    result = run_cli("eval", "retrieval", "--questions", str(path), "--split", "dev",
                     env={"CHATBOT_INDEX_DIR": str(tmp_path / "none")})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {path}: no questions with an article in split")


def test_a_missing_sib_split_is_one_line(tmp_path: Path) -> None:
    result = run_cli("eval", "language", "--sib", str(tmp_path), "--split", "dev")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(
        f"error: cannot read the SIB-200 file {tmp_path / 'deu_Latn.dev.tsv'}")


def test_a_bug_is_not_passed_off_as_a_user_error() -> None:
    """Only domain errors become `error: ...`; a ValueError is a bug and keeps its
    traceback."""
    from chatbot.cli import domain_errors

    @domain_errors
    def broken() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        broken()


@pytest.mark.slow
def test_ingest_refuses_a_build_that_lost_a_german_version(model_settings, write_article,
                                                           tmp_path: Path) -> None:
    """Real model, real ingest: the broken German article is named, exit 2, the good
    version stays current; --force publishes."""
    write_article("reisepass", "de", body="## Gebühren\n\nDer Reisepass kostet 70 Euro.")
    write_article("reisepass", "en", title="Passport", body="## Fees\n\nIt costs 70 euros.")
    write_article("hund", "de", body="## Hundesteuer\n\nMelden Sie Ihren Hund an.")
    write_article("kita", "de", body="## Anmeldung\n\nMelden Sie Ihr Kind an.")
    index = tmp_path / "idx"
    args = ("ingest", "--corpus", str(tmp_path / "corpus"), "--index", str(index))
    assert run_cli(*args).returncode == 0
    good = (index / "CURRENT").read_text().strip()
    broken = tmp_path / "corpus" / "amt" / "reisepass.de.md"
    broken.write_text(broken.read_text(encoding="utf-8").replace("---\n", "--\n", 1),
                      encoding="utf-8")

    refused = run_cli(*args)
    assert refused.returncode == 2, refused.stdout
    error_lines = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, refused.stderr
    assert "the German version of 1 article(s) is missing: reisepass (amt/reisepass.de.md" \
        in error_lines[0]
    assert error_lines[0].endswith("to publish it anyway: chatbot ingest --force")
    assert "Traceback" not in refused.stderr
    assert (index / "CURRENT").read_text().strip() == good
    assert sorted(p.name for p in index.iterdir()) == ["CURRENT", good]

    forced = run_cli(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "published by force although refused" in forced.stdout
    assert (index / "CURRENT").read_text().strip() != good
