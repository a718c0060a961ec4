"""The parts of machine translation that need no model: routes, sentence splitting,
what of the Markdown is translated, and the draft's front matter."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from chatbot.corpus import load_corpus
from chatbot.translation import find_route
from chatbot.translation.drafts import fill_missing, translate_markdown
from chatbot.translation.splitter import split_sentences


class UpperTranslator:
    """Marks every translated piece, so a test sees exactly what went through it."""

    def __init__(self, pairs: set[tuple[str, str]]) -> None:
        self._pairs = frozenset(pairs)
        self.calls: list[tuple[str, str, str]] = []

    def pairs(self) -> frozenset[tuple[str, str]]:
        return self._pairs

    def translate(self, text: str, *, source: str, target: str) -> str:
        self.calls.append((text, source, target))
        return f"<{target}>{text.upper()}"


def test_routes_are_direct_or_through_english_never_invented() -> None:
    pairs = {("de", "en"), ("en", "fr"), ("de", "it")}
    assert find_route(pairs, "de", "it") == [("de", "it")]
    assert find_route(pairs, "de", "fr") == [("de", "en"), ("en", "fr")]
    assert find_route(pairs, "de", "ku") is None
    assert find_route(pairs, "fr", "de") is None
    assert find_route(set(), "de", "en") is None


@pytest.mark.parametrize(("text", "sentences"), [
    ("Der Pass kostet 70 Euro. Bringen Sie ein Foto mit!", ["Der Pass kostet 70 Euro.",
                                                            "Bringen Sie ein Foto mit!"]),
    ("Am 3. Oktober ist geschlossen.", ["Am 3. Oktober ist geschlossen."]),
    ("Ist das so? „Ja“, sagt sie.", ["Ist das so?", "„Ja“, sagt sie."]),
    ("kein Satzende", ["kein Satzende"]),
    ("   ", []),
])
def test_the_builtin_splitter(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_markdown_structure_links_and_code_stay_only_text_is_translated() -> None:
    translator = UpperTranslator({("de", "en")})
    body = ("## Gebühren\n\n- Der Pass kostet 70 Euro.\n1. Erstens\n> Zitat\n\n"
            "Siehe [Liste](https://x.example/a) hier.\n\n```\ncode bleibt\n```\n"
            "| Tabelle | bleibt |\nhttps://x.example/nur-link")
    out = translate_markdown(body, lambda t: translator.translate(t, source="de",
                                                                  target="en"))
    assert out.split("\n") == [
        "## <en>GEBÜHREN", "", "- <en>DER PASS KOSTET 70 EURO.", "1. <en>ERSTENS",
        "> <en>ZITAT", "", "<en>SIEHE [<en>LISTE](https://x.example/a) <en>HIER.", "",
        "```", "code bleibt", "```", "| Tabelle | bleibt |", "https://x.example/nur-link"]


def test_a_draft_records_its_source_revision_and_is_marked(
        tmp_path: Path, write_article) -> None:  # type: ignore[no-untyped-def]
    write_article("reisepass", extra="summary: Persönlich beantragen.\n"
                                     "appointment_service: buergerservice\n")
    report = fill_missing(tmp_path / "corpus", UpperTranslator({("de", "en"), ("en", "pl")}),
                          languages=("en", "pl", "ku"), today=date(2026, 11, 20))
    assert [(d.lang, d.route) for d in report.written] == [
        ("en", ("de", "en")), ("pl", ("de", "en", "pl"))]
    assert report.no_model == {("de", "ku"): ["reisepass"]}
    assert not report.complete
    loaded = load_corpus(tmp_path / "corpus")
    assert loaded.issues == []
    polish = next(a for a in loaded.articles if a.lang == "pl")
    assert polish.machine_translated
    assert polish.title == "<pl><EN>REISEPASS"
    assert polish.summary == "<pl><EN>PERSÖNLICH BEANTRAGEN."
    assert polish.source_revision == date(2026, 10, 1)
    assert polish.updated == date(2026, 11, 20)
    assert polish.appointment_service == "buergerservice"


def test_a_model_that_returns_nothing_writes_nothing(
        tmp_path: Path, write_article) -> None:  # type: ignore[no-untyped-def]
    class Empty(UpperTranslator):
        def translate(self, text: str, *, source: str, target: str) -> str:
            return ""

    write_article("reisepass")
    report = fill_missing(tmp_path / "corpus", Empty({("de", "en")}), languages=("en",))
    assert report.written == []
    assert report.failed == [("reisepass", "en",
                              "the model returned no text for reisepass (de→en)")]
    assert not (tmp_path / "corpus" / "amt" / "reisepass.en.md").exists()


@pytest.mark.parametrize("value", ["yes please", "1", "[true]"])
def test_machine_translated_must_be_a_boolean(
        tmp_path: Path, write_article, value: str) -> None:  # type: ignore[no-untyped-def]
    write_article("reisepass")
    write_article("reisepass", "en", extra=f"machine_translated: {value}\n")
    loaded = load_corpus(tmp_path / "corpus")
    assert [str(i) for i in loaded.issues] == [
        "amt/reisepass.en.md: machine_translated must be true or false"]


def test_without_the_extra_translating_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from chatbot.translation import TranslationUnavailableError
    from chatbot.translation.argos import ArgosTranslator

    model = tmp_path / "models" / "de_en"
    model.mkdir(parents=True)
    (model / "metadata.json").write_text('{"from_code": "de", "to_code": "en"}',
                                         encoding="utf-8")
    monkeypatch.setitem(sys.modules, "argostranslate", None)  # as if not installed
    translator = ArgosTranslator(tmp_path / "models")
    assert translator.pairs() == {("de", "en")}
    with pytest.raises(TranslationUnavailableError, match=r"pip install '\.\[translate\]'"):
        translator.translate("Hallo.", source="de", target="en")


def test_an_unknown_language_or_german_is_refused_before_anything_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_article) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from chatbot.cli import app
    from chatbot.config import get_settings

    write_article("reisepass")
    monkeypatch.setenv("CHATBOT_CORPUS_DIR", str(tmp_path / "corpus"))
    get_settings.cache_clear()
    try:
        results = [CliRunner().invoke(app, ["translate", "missing", "--lang", code])
                   for code in ("es", "de")]
    finally:
        get_settings.cache_clear()
    for result, code in zip(results, ("es", "de"), strict=True):
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            f"error: cannot translate into {code}; expected one of en, fr, it, pl, tr, ku "
            "(German is the source and written by editors)")
    assert sorted(p.name for p in (tmp_path / "corpus" / "amt").iterdir()) == [
        "reisepass.de.md"]


def test_an_article_without_german_is_translated_from_its_own_language_never_into_german(
        tmp_path: Path, write_article) -> None:  # type: ignore[no-untyped-def]
    write_article("fahrrad", "en", front="id: fahrrad\nlang: en\ntitle: Bikes\n"
                  "department: amt\nupdated: 2026-09-01\n")
    report = fill_missing(tmp_path / "corpus", UpperTranslator({("en", "fr"), ("en", "de")}),
                          languages=("de", "fr"))
    assert [(d.lang, d.route) for d in report.written] == [("fr", ("en", "fr"))]
    loaded = load_corpus(tmp_path / "corpus")
    assert loaded.issues == []
    assert sorted(a.lang for a in loaded.articles) == ["en", "fr"]


def test_a_complete_corpus_needs_no_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_article) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from chatbot.cli import app
    from chatbot.config import get_settings

    write_article("reisepass")
    write_article("reisepass", "en")
    monkeypatch.setenv("CHATBOT_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("CHATBOT_TRANSLATION_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["translate", "missing", "--lang", "en"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "nothing to translate: every version exists and follows the current German text",
        "0 draft(s) written; models installed: none"]
