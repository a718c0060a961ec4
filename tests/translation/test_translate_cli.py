"""`chatbot translate ...` end to end through the real argostranslate code path (tiny
random-weight models built by the tests), with every network connection refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from chatbot.cli import app
from chatbot.config import get_settings
from chatbot.corpus import load_corpus
from chatbot.corpus.status import translation_status
from chatbot.index.builder import build_index
from chatbot.index.store import IndexStore
from chatbot.language import LanguageDetector
from chatbot.retrieval.service import SearchService
from chatbot.translation.argos import ArgosTranslator
from tests.dialogue.confident_chat import answer_text

GERMAN = ("## Antrag\n\nDen Reisepass beantragen Sie persönlich im Bürgerbüro. "
          "Bringen Sie ein biometrisches Foto mit.\n\n## Gebühren\n\n- Der Pass kostet "
          "70 Euro.\n- Mehr unter [Gebührenliste](https://example.org/gebuehren).")


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setenv("CHATBOT_TRANSLATION_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("CHATBOT_CORPUS_DIR", str(tmp_path / "corpus"))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        get_settings.cache_clear()


def test_without_models_missing_pairs_are_named_and_the_exit_is_non_zero(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_article,  # type: ignore[no-untyped-def]
        no_network: list[object]) -> None:
    write_article("reisepass", body=GERMAN)
    result = run(tmp_path, monkeypatch, "translate", "missing")
    assert result.exit_code == 1, result.output
    assert "no model for de→en: 1 article(s) stay without a en version" in result.stderr
    for lang in ("fr", "it", "pl", "tr", "ku"):
        assert f"no model for de→{lang} (nor de→en→{lang}): 1 article(s)" in result.stderr
    assert "0 draft(s) written; models installed: none" in result.stdout
    assert sorted(p.name for p in (tmp_path / "corpus" / "amt").iterdir()) == ["reisepass.de.md"]


def test_installed_models_fill_missing_versions_as_drafts_that_ingest_and_are_marked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_article, fake_embedder,  # type: ignore[no-untyped-def]
        argos_models: dict[str, Path], no_network: list[object]) -> None:
    write_article("reisepass", title="Reisepass beantragen", body=GERMAN,
                  extra="keywords: [Pass]\nurl: https://example.org/reisepass\n")
    for name in ("de_en", "en_fr"):
        installed = run(tmp_path, monkeypatch, "translate", "install-model",
                        str(argos_models[name]))
        assert installed.exit_code == 0, installed.output
        assert f"installed {name.replace('_', '→')}" in installed.stdout
    listed = run(tmp_path, monkeypatch, "translate", "models")
    assert "2 model(s)" in listed.stdout

    result = run(tmp_path, monkeypatch, "translate", "missing")
    # English directly, French through English; Kurdish and the others have no model.
    assert result.exit_code == 1, result.output
    assert "wrote amt/reisepass.en.md (de → en, machine-translated draft)" in result.stdout
    assert "wrote amt/reisepass.fr.md (de → en → fr, machine-translated draft)" in result.stdout
    assert "no model for de→ku (nor de→en→ku): 1 article(s)" in result.stderr
    assert not (tmp_path / "corpus" / "amt" / "reisepass.ku.md").exists()

    loaded = load_corpus(tmp_path / "corpus")
    assert loaded.issues == []
    versions = {a.lang: a for a in loaded.articles}
    assert set(versions) == {"de", "en", "fr"}
    for lang in ("en", "fr"):
        draft = versions[lang]
        assert draft.machine_translated is True
        assert draft.source_revision == versions["de"].updated
        assert draft.url == "https://example.org/reisepass"
        assert draft.body.count("## ") == 2  # headings kept, text translated
        assert "(https://example.org/gebuehren)" in draft.body
        assert draft.body != versions["de"].body
    status = translation_status(loaded.articles)[0]
    assert status.machine_translated == ["en", "fr"]
    assert "ku" in status.missing

    # Only the languages asked for: everything there is done, so the exit is 0.
    again = run(tmp_path, monkeypatch, "translate", "missing", "--lang", "en", "--lang", "fr")
    assert again.exit_code == 0, again.output
    assert "0 draft(s) written" in again.stdout

    build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "idx"),
                embedder=fake_embedder)
    service = SearchService(embedder=fake_embedder, detector=LanguageDetector(),
                            index_root=tmp_path / "idx")
    english = answer_text(service, versions["en"].title, lang="en")
    assert english.startswith("_Note: this answer was machine-translated and has not yet "
                              "been checked by the city._")
    french = answer_text(service, versions["fr"].title, lang="fr")
    assert french.startswith("_Remarque : cette réponse a été traduite automatiquement")
    german = answer_text(service, "Reisepass beantragen", lang="de")
    assert "maschinell" not in german


def test_a_stale_machine_draft_is_made_again_a_stale_curated_one_is_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_article,  # type: ignore[no-untyped-def]
        argos_models: dict[str, Path], no_network: list[object]) -> None:
    write_article("reisepass", body=GERMAN)
    curated = write_article("reisepass", "fr", body="## Demande\n\nTexte soigné.")
    draft = write_article("reisepass", "en", body="## Old\n\nOld draft.",
                          extra="machine_translated: true\n")
    (tmp_path / "corpus" / "amt" / "reisepass.de.md").write_text(
        (tmp_path / "corpus" / "amt" / "reisepass.de.md").read_text(encoding="utf-8")
        .replace("updated: 2026-10-01", "updated: 2026-11-15"), encoding="utf-8")
    for name in ("de_en", "en_fr"):
        assert run(tmp_path, monkeypatch, "translate", "install-model",
                   str(argos_models[name])).exit_code == 0
    result = run(tmp_path, monkeypatch, "translate", "missing", "--lang", "en", "--lang", "fr")
    assert result.exit_code == 0, result.output
    assert "replaced stale amt/reisepass.en.md" in result.stdout
    assert "kept stale curated reisepass.fr (--overwrite-curated replaces it)" in result.stdout
    assert "Texte soigné." in curated.read_text(encoding="utf-8")
    assert "source_revision: '2026-11-15'" in draft.read_text(encoding="utf-8")
    assert "Old draft." not in draft.read_text(encoding="utf-8")

    forced = run(tmp_path, monkeypatch, "translate", "missing", "--lang", "fr",
                 "--overwrite-curated")
    assert forced.exit_code == 0, forced.output
    assert "Texte soigné." not in curated.read_text(encoding="utf-8")
    assert load_corpus(tmp_path / "corpus").issues == []


def _zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, text in files.items():
            zipped.writestr(name, text)
    return path


@pytest.mark.parametrize(("files", "problem"), [
    (None, "not an .argosmodel (a zip archive)"),
    ({"a/metadata.json": "{}", "b/x": ""}, "expected one top directory"),
    ({"a/model/model.bin": ""}, "no a/metadata.json"),
    ({"a/metadata.json": "{not json"}, "metadata.json is not valid JSON"),
    ({"a/metadata.json": '{"from_code": "de", "to_code": "es"}'},
     "to_code 'es' is not a corpus language"),
    ({"a/metadata.json": '{"from_code": "de", "to_code": "en"}',
      "a/sentencepiece.model": ""}, "no CTranslate2 model (a/model/model.bin)"),
    ({"a/metadata.json": '{"from_code": "de", "to_code": "en"}', "a/model/model.bin": ""},
     "no tokenizer"),
    ({"a/metadata.json": '{"from_code": "de", "to_code": "en"}', "a/../../evil": ""},
     "unsafe path"),
])
def test_a_bad_model_file_is_refused_with_the_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str] | None,
        problem: str) -> None:
    model = tmp_path / "bad.argosmodel"
    if files is None:
        model.write_text("not a zip", encoding="utf-8")
    else:
        _zip(model, files)
    result = run(tmp_path, monkeypatch, "translate", "install-model", str(model))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {model}: ")
    assert problem in result.stderr
    assert not (tmp_path / "models").exists()
    assert not (tmp_path.parent / "evil").exists()


def test_installing_a_newer_model_replaces_the_old_one(
        tmp_path: Path, argos_models: dict[str, Path], no_network: list[object]) -> None:
    from chatbot.translation.argos import install_model

    first = install_model(argos_models["de_en"], tmp_path / "models")
    second = install_model(argos_models["de_en"], tmp_path / "models")
    assert first.path == second.path == tmp_path / "models" / "de_en"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["de_en"]
    translator = ArgosTranslator(tmp_path / "models")
    assert translator.pairs() == {("de", "en")}
    text = translator.translate("Der Reisepass kostet 70 Euro. Bringen Sie ein Foto mit.",
                                source="de", target="en")
    assert text
    assert text != "Der Reisepass kostet 70 Euro. Bringen Sie ein Foto mit."
