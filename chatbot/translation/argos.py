"""argostranslate as the translator, strictly offline.

Model files (`.argosmodel`, a zip archive of one directory with `metadata.json`, a
CTranslate2 `model/` and a `sentencepiece.model` or `bpe.model`) are installed into our
own directory (CHATBOT_TRANSLATION_MODELS_DIR) by `install_model`, never through
argostranslate's package index. At translation time argostranslate's own
`PackageTranslation` runs (its tokenizer, CTranslate2 model and decoding settings) with
the built-in sentence splitter in place of the Stanza/MiniSBD models it would
otherwise download.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from chatbot.corpus.models import LANGUAGES
from chatbot.translation.base import (
    ModelFileError,
    Pair,
    TranslationError,
    TranslationUnavailableError,
)
from chatbot.translation.splitter import BuiltinSentencizer

METADATA = "metadata.json"
_TOKENIZERS = ("sentencepiece.model", "bpe.model")
_MAX_UNPACKED_BYTES = 4 * 1024**3
_OLD_PREFIX = ".old-"


@dataclass(frozen=True)
class InstalledModel:
    source: str
    target: str
    version: str
    path: Path

    @property
    def pair(self) -> Pair:
        return (self.source, self.target)


def install_model(archive: Path, models_dir: Path) -> InstalledModel:
    """Check and unpack one `.argosmodel` into `models_dir/<from>_<to>`; a model for the
    same pair is replaced only once the new one is complete. The model it replaces is
    moved to `.old-<from>_<to>` for the final rename: it is moved back if that rename
    fails, and by the next install (before anything else) if the process died."""
    _restore_interrupted(models_dir)
    if not archive.is_file():
        raise ModelFileError(f"{archive}: no such file")
    if not zipfile.is_zipfile(archive):
        raise ModelFileError(f"{archive}: not an .argosmodel (a zip archive)")
    try:
        with zipfile.ZipFile(archive) as zipped:
            return _install(archive, zipped, models_dir)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # incl. CRC mismatches
        raise ModelFileError(f"{archive}: a damaged archive that cannot be unpacked "
                             f"({exc})") from exc


def _install(archive: Path, zipped: zipfile.ZipFile, models_dir: Path) -> InstalledModel:
    top, names = _checked_members(archive, zipped)
    metadata = _metadata(archive, zipped, top)
    source, target = metadata["from_code"], metadata["to_code"]
    if f"{top}/model/model.bin" not in names:
        raise ModelFileError(f"{archive}: no CTranslate2 model ({top}/model/model.bin)")
    if not any(f"{top}/{name}" in names for name in _TOKENIZERS):
        raise ModelFileError(f"{archive}: no tokenizer ({top}/sentencepiece.model or "
                             f"{top}/bpe.model)")
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".install-", dir=models_dir))
    destination = models_dir / f"{source}_{target}"
    old = models_dir / f"{_OLD_PREFIX}{source}_{target}"
    try:
        try:
            zipped.extractall(staging)
        except OSError as exc:  # disk full, I/O error: nothing was replaced
            raise ModelFileError(f"{archive}: cannot be unpacked into {models_dir} "
                                 f"({exc}); the installed models are unchanged") from exc
        shutil.rmtree(old, ignore_errors=True)
        if destination.exists():
            destination.rename(old)
        try:
            (staging / top).rename(destination)
        except BaseException:
            if old.exists() and not destination.exists():
                old.rename(destination)
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return InstalledModel(source, target, str(metadata.get("package_version", "")),
                          destination)


def _restore_interrupted(models_dir: Path) -> None:
    """A replaced model whose successor never arrived (the process died between the two
    renames) goes back to its place."""
    if not models_dir.is_dir():
        return
    for old in models_dir.glob(f"{_OLD_PREFIX}*"):
        destination = models_dir / old.name.removeprefix(_OLD_PREFIX)
        if old.is_dir() and not destination.exists():
            old.rename(destination)


def installed_models(models_dir: Path) -> list[InstalledModel]:
    """The models below `models_dir`, sorted by pair; unreadable directories are left out."""
    found = []
    if not models_dir.is_dir():
        return []
    for directory in sorted(models_dir.iterdir()):
        if directory.name.startswith(".") or not (directory / METADATA).is_file():
            continue
        try:
            meta = json.loads((directory / METADATA).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and meta.get("from_code") in LANGUAGES \
                and meta.get("to_code") in LANGUAGES:
            found.append(InstalledModel(meta["from_code"], meta["to_code"],
                                        str(meta.get("package_version", "")), directory))
    return found


class ArgosTranslator:
    """`Translator` over the models installed in `models_dir`."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._models = {m.pair: m for m in installed_models(models_dir)}
        self._translations: dict[Pair, Any] = {}
        self._lock = threading.Lock()

    def pairs(self) -> frozenset[Pair]:
        return frozenset(self._models)

    def translate(self, text: str, *, source: str, target: str) -> str:
        if not text.strip():
            return text
        translation = self._translation((source, target))
        try:
            return str(translation.translate(text)).strip()
        except Exception as exc:  # argostranslate/CTranslate2 raise bare exceptions
            raise TranslationError(
                f"translating {source}→{target} with {self._models[(source, target)].path} "
                f"failed: {exc}") from exc

    def _translation(self, pair: Pair) -> Any:
        with self._lock:
            if pair not in self._translations:
                model = self._models.get(pair)
                if model is None:
                    raise TranslationError(f"no model installed for {pair[0]}→{pair[1]}")
                package_module, translate_module = _argos_modules(self.models_dir)
                try:
                    package = package_module.Package(model.path)
                except Exception as exc:
                    raise TranslationError(f"model {model.path} cannot be read: {exc}") from exc
                self._translations[pair] = _offline_translation(translate_module, package)
            return self._translations[pair]


def _offline_translation(translate_module: Any, package: Any) -> Any:
    """argostranslate's `PackageTranslation` for `package`, with our sentence splitter
    instead of the one its constructor would set up (and download)."""

    class OfflinePackageTranslation(translate_module.PackageTranslation):  # type: ignore[misc]
        def __init__(self, pkg: Any) -> None:  # no super(): it picks a downloading splitter
            self.from_lang = None
            self.to_lang = None
            self.pkg = pkg
            self.translator = None
            self.sentencizer = BuiltinSentencizer()

    return OfflinePackageTranslation(package)


def _argos_modules(models_dir: Path) -> tuple[Any, Any]:
    """Import argostranslate lazily (it is an optional extra). Its settings are read at
    import: point its package directory at ours, and keep spaCy mode (which downloads
    a model at import) off."""
    if os.environ.get("ARGOS_CHUNK_TYPE", "").upper() == "SPACY":
        os.environ["ARGOS_CHUNK_TYPE"] = "DEFAULT"
    os.environ.setdefault("ARGOS_PACKAGES_DIR", str(models_dir))
    try:
        from argostranslate import package, translate
    except ImportError as exc:
        raise TranslationUnavailableError(
            "machine translation needs the optional extra: pip install '.[translate]' "
            f"({exc})") from exc
    return package, translate


def _checked_members(archive: Path, zipped: zipfile.ZipFile) -> tuple[str, set[str]]:
    names: set[str] = set()
    tops: set[str] = set()
    total = 0
    for info in zipped.infolist():
        path = PurePosixPath(info.filename)
        if path.is_absolute() or ".." in path.parts or "\\" in info.filename:
            raise ModelFileError(f"{archive}: unsafe path {info.filename!r} in the archive")
        total += info.file_size
        tops.add(path.parts[0])
        names.add(info.filename.rstrip("/"))
    if total > _MAX_UNPACKED_BYTES:
        raise ModelFileError(f"{archive}: unpacks to {total} bytes, more than the "
                             f"{_MAX_UNPACKED_BYTES} allowed")
    if len(tops) != 1:
        raise ModelFileError(f"{archive}: expected one top directory, found "
                             f"{len(tops)} entries at the top")
    return tops.pop(), names


def _metadata(archive: Path, zipped: zipfile.ZipFile, top: str) -> dict[str, Any]:
    try:
        raw = zipped.read(f"{top}/{METADATA}")
    except KeyError as exc:
        raise ModelFileError(f"{archive}: no {top}/{METADATA}") from exc
    try:
        meta = json.loads(raw)
    except ValueError as exc:
        raise ModelFileError(f"{archive}: {METADATA} is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise ModelFileError(f"{archive}: {METADATA} must be a JSON object")
    if meta.get("type", "translate") != "translate":
        raise ModelFileError(f"{archive}: a {meta.get('type')!r} package, not a translation "
                             "model")
    for key in ("from_code", "to_code"):
        if meta.get(key) not in LANGUAGES:
            raise ModelFileError(f"{archive}: {key} {meta.get(key)!r} is not a corpus "
                                 f"language ({', '.join(LANGUAGES)})")
    if meta["from_code"] == meta["to_code"]:
        raise ModelFileError(f"{archive}: from_code and to_code are both {meta['from_code']!r}")
    return meta
