"""`install_model` never leaves a pair without its model: a failed final rename, a
process that died between the two renames, a damaged archive. Small hand-made model
files (installing does not load them); the real models are in test_translate_cli.py."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatbot.cli import app
from chatbot.config import get_settings
from chatbot.translation import ModelFileError
from chatbot.translation.argos import install_model, installed_models


def model_file(path: Path, *, version: str, source: str = "de", target: str = "en",
               compression: int = zipfile.ZIP_DEFLATED) -> Path:
    top = f"translate-{source}_{target}"
    with zipfile.ZipFile(path, "w", compression=compression) as zipped:
        zipped.writestr(f"{top}/metadata.json", json.dumps(
            {"from_code": source, "to_code": target, "package_version": version}))
        zipped.writestr(f"{top}/model/model.bin", f"weights {version} " * 100)
        zipped.writestr(f"{top}/sentencepiece.model", "tokenizer")
    return path


def versions(models_dir: Path) -> dict[str, str]:
    return {f"{m.source}_{m.target}": m.version for m in installed_models(models_dir)}


def test_a_failed_final_rename_puts_the_old_model_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    install_model(model_file(tmp_path / "v1.argosmodel", version="1"), models)
    real_rename = Path.rename

    def failing(self: Path, target: Path) -> Path:
        if self.name == "translate-de_en":  # staging → destination
            raise OSError(5, "Input/output error")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", failing)
    with pytest.raises(OSError, match="Input/output error"):
        install_model(model_file(tmp_path / "v2.argosmodel", version="2"), models)
    assert versions(models) == {"de_en": "1"}
    assert sorted(p.name for p in models.iterdir()) == ["de_en"]


def test_a_model_moved_aside_by_a_dead_install_is_restored_first(tmp_path: Path) -> None:
    models = tmp_path / "models"
    install_model(model_file(tmp_path / "v1.argosmodel", version="1"), models)
    (models / "de_en").rename(models / ".old-de_en")  # died between the two renames
    assert versions(models) == {}

    # Any install restores it, even one of another pair or one that fails.
    with pytest.raises(ModelFileError):
        install_model(tmp_path / "missing.argosmodel", models)
    assert versions(models) == {"de_en": "1"}

    (models / "de_en").rename(models / ".old-de_en")
    install_model(model_file(tmp_path / "fr.argosmodel", version="7", source="fr"), models)
    assert versions(models) == {"de_en": "1", "fr_en": "7"}
    assert not (models / ".old-de_en").exists()


def test_a_damaged_archive_is_a_model_file_error_and_changes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    install_model(model_file(tmp_path / "v1.argosmodel", version="1"), models)
    damaged = model_file(tmp_path / "v2.argosmodel", version="2",
                         compression=zipfile.ZIP_STORED)
    data = bytearray(damaged.read_bytes())
    where = data.index(b"weights 2")
    data[where] ^= 0xFF  # the stored bytes no longer match their CRC-32
    damaged.write_bytes(bytes(data))

    monkeypatch.setenv("CHATBOT_TRANSLATION_MODELS_DIR", str(models))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["translate", "install-model", str(damaged)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {damaged}: a damaged archive")
    assert "CRC" in result.stderr
    assert versions(models) == {"de_en": "1"}
    assert sorted(p.name for p in models.iterdir()) == ["de_en"]


def test_a_disk_error_while_unpacking_is_a_model_file_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    install_model(model_file(tmp_path / "v1.argosmodel", version="1"), models)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "extractall", disk_full)
    with pytest.raises(ModelFileError, match=r"No space left on device.*unchanged"):
        install_model(model_file(tmp_path / "v2.argosmodel", version="2"), models)
    assert versions(models) == {"de_en": "1"}
    assert sorted(p.name for p in models.iterdir()) == ["de_en"]
