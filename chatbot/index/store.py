"""The index directory: versions side by side and a `CURRENT` pointer file.

A build writes `.building-*`, renames it to its version name when complete, and
only then replaces `CURRENT` with `os.replace`, which is atomic on POSIX. Readers
therefore see either the old or the new version, never a half-built one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from chatbot.errors import ChatbotError, IndexIncompatibleError, IndexNotFoundError
from chatbot.index.manifest import IndexManifest

POINTER = "CURRENT"
MANIFEST = "manifest.json"


class IndexStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def staging_dir(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".building-", dir=self.root))

    def current_version(self) -> str | None:
        try:
            name = (self.root / POINTER).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name if name and (self.root / name / MANIFEST).is_file() else None

    def current_dir(self) -> Path:
        version = self.current_version()
        if version is None:
            raise IndexNotFoundError(
                f"no index in {self.root}; build one with `chatbot ingest`"
            )
        return self.root / version

    def publish(self, staging: Path, version: str) -> Path:
        """Give a complete build its version name and make it current."""
        final = self.root / version
        staging.rename(final)
        self.switch(version)
        return final

    def switch(self, version: str) -> None:
        if not (self.root / version / MANIFEST).is_file():
            raise IndexNotFoundError(f"index version {version} does not exist in {self.root}")
        pointer_tmp = self.root / f".{POINTER}.{os.getpid()}.tmp"
        pointer_tmp.write_text(version + "\n", encoding="utf-8")
        os.replace(pointer_tmp, self.root / POINTER)

    def versions(self) -> list[str]:
        """Complete versions, oldest first (names sort by build time)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file()
        )

    def prune(self, keep: int, *, protect: Collection[str] = ()) -> list[str]:
        """Delete all but the newest `keep` versions (never the current one nor those in
        `protect`) and stale builds."""
        current = self.current_version()
        removed = []
        for version in self.versions()[:-keep] if keep > 0 else self.versions():
            if version != current and version not in protect:
                shutil.rmtree(self.root / version, ignore_errors=True)
                removed.append(version)
        for leftover in self.root.glob(".building-*"):
            if _owner_is_gone(leftover):
                shutil.rmtree(leftover, ignore_errors=True)
        return removed


@dataclass(frozen=True)
class VersionInfo:
    """One complete version as `chatbot index list` and the admin API show it."""

    version: str
    current: bool
    manifest: IndexManifest | None
    problem: str | None = None

    def as_dict(self) -> dict[str, object]:
        m = self.manifest
        return {
            "version": self.version, "current": self.current,
            "built_at": m.built_at if m else None,
            "model_id": m.model_id if m else None,
            "article_count": m.article_count if m else None,
            "document_count": m.document_count if m else None,
            "chunk_count": m.chunk_count if m else None,
            "languages": dict(m.languages) if m else {},
            "embedded_chunks": m.embedded_chunks if m else None,
            "reused_chunks": m.reused_chunks if m else None,
            "file_errors": len(m.errors) if m else None,
            "problem": self.problem,
        }


def describe_versions(store: IndexStore) -> list[VersionInfo]:
    """Every complete version, oldest first, with its manifest (or why it is unreadable)."""
    current = store.current_version()
    infos = []
    for version in store.versions():
        try:
            infos.append(VersionInfo(version, version == current,
                                     read_manifest(store.root / version)))
        except ChatbotError as exc:  # one unreadable manifest must not hide the others
            infos.append(VersionInfo(version, version == current, None, str(exc)))
    return infos


def read_manifest(index_dir: Path) -> IndexManifest:
    path = index_dir / MANIFEST
    try:
        return IndexManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexNotFoundError(f"{index_dir} has no {MANIFEST}") from exc
    except ValueError as exc:
        raise IndexIncompatibleError(f"{path} is not a readable manifest: {exc}") from exc


def _owner_is_gone(staging: Path) -> bool:
    pid_file = staging / "builder.pid"
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
