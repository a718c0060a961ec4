from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.corpus import load_corpus
from chatbot.errors import CorpusError


def reasons(tmp_path: Path) -> dict[str, str]:
    result = load_corpus(tmp_path / "corpus")
    return {issue.path: issue.reason for issue in result.issues}


def test_valid_article_is_loaded_with_all_fields(write_article, tmp_path: Path) -> None:
    write_article("reisepass", "en", title="Passport",
                  extra="keywords: [passport, Reisepass]\nappointment_service: buergerservice\n"
                        "url: https://example.org/pass\n")
    result = load_corpus(tmp_path / "corpus")
    assert result.issues == []
    [article] = result.articles
    assert (article.id, article.lang, article.title) == ("reisepass", "en", "Passport")
    assert article.keywords == ("passport", "Reisepass")
    assert article.appointment_service == "buergerservice"
    assert article.source_revision is not None
    assert article.url == "https://example.org/pass"


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("id: reisepass\nlang: de\ndepartment: amt\nupdated: 2026-10-01\n",
         "missing field(s): title"),
        ("id: reisepass\nlang: es\ntitle: T\ndepartment: amt\nupdated: 2026-10-01\n",
         "unknown language 'es'"),
        ("id: pass\nlang: de\ntitle: T\ndepartment: amt\nupdated: 2026-10-01\n",
         "file name must be pass.de.md"),
        ("id: reisepass\nlang: de\ntitle: T\ndepartment: amt\nupdated: 2026-13-45\n",
         "updated '2026-13-45' is not a date"),
        ("id: reisepass\nlang: de\ntitle: T\ndepartment: other\nupdated: 2026-10-01\n",
         "department 'other' does not match its folder 'amt'"),
        ("id: reisepass\nlang: de\ntitle: [unclosed\ndepartment: amt\nupdated: 2026-10-01\n",
         "front matter is not valid YAML"),
        ("id: reisepass\nlang: de\ntitle: T\ndepartment: amt\nupdated: 2026-10-01\n"
         "url: not-a-url\n", "url 'not-a-url' must be an http(s) address"),
    ],
)
def test_broken_front_matter_is_reported_with_file_and_reason(
    write_article, tmp_path: Path, front: str, expected: str
) -> None:
    write_article("reisepass", "de", front=front)
    write_article("ausweis", "de")  # a good file next to the bad one is still loaded
    problems = reasons(tmp_path)
    assert list(problems) == ["amt/reisepass.de.md"]
    assert expected in problems["amt/reisepass.de.md"]
    assert [a.id for a in load_corpus(tmp_path / "corpus").articles] == ["ausweis"]


def test_empty_body_is_rejected(write_article, tmp_path: Path) -> None:
    write_article("reisepass", "de", body="   \n")
    assert "empty body" in reasons(tmp_path)["amt/reisepass.de.md"]


def test_missing_front_matter_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "corpus" / "amt" / "reisepass.de.md"
    path.parent.mkdir(parents=True)
    path.write_text("Just text, no front matter.\n", encoding="utf-8")
    assert "no front matter" in reasons(tmp_path)["amt/reisepass.de.md"]


def test_translation_needs_source_revision(write_article, tmp_path: Path) -> None:
    write_article("reisepass", "de")
    write_article("reisepass", "en", front="id: reisepass\nlang: en\ntitle: P\ndepartment: amt\n"
                                           "updated: 2026-10-01\n")
    assert "source_revision" in reasons(tmp_path)["amt/reisepass.en.md"]
    assert [a.lang for a in load_corpus(tmp_path / "corpus").articles] == ["de"]


def test_article_only_in_another_language_is_its_own_source(write_article,
                                                            tmp_path: Path) -> None:
    write_article("kita-anmelden", "tr", front="id: kita-anmelden\nlang: tr\ntitle: Kita\n"
                                                "department: amt\nupdated: 2026-10-01\n")
    result = load_corpus(tmp_path / "corpus")
    assert result.issues == []
    assert [(a.id, a.lang, a.source_revision) for a in result.articles] == [
        ("kita-anmelden", "tr", None)]


def test_summary_is_optional_text(write_article, tmp_path: Path) -> None:
    write_article("reisepass", "de", extra="summary: Der Pass kostet 70 Euro.\n")
    write_article("ausweis", "de", extra="summary: [not, text]\n")
    result = load_corpus(tmp_path / "corpus")
    assert [a.summary for a in result.articles] == ["Der Pass kostet 70 Euro."]
    assert "summary must be a non-empty text" in reasons(tmp_path)["amt/ausweis.de.md"]


def test_duplicate_id_and_language_is_reported_once(write_article, tmp_path: Path) -> None:
    write_article("reisepass", "de", department="amt")
    write_article("reisepass", "de", department="zweitamt")
    result = load_corpus(tmp_path / "corpus")
    assert len(result.articles) == 1
    [issue] = result.issues
    assert "duplicate id 'reisepass'" in issue.reason
    assert issue.path == "zweitamt/reisepass.de.md"


def test_non_utf8_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "corpus" / "amt" / "reisepass.de.md"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"---\nid: reisepass\ntitle: Gr\xfc\xdfe\n---\nText\n")
    assert "not UTF-8" in reasons(tmp_path)["amt/reisepass.de.md"]


def test_missing_corpus_directory_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")
