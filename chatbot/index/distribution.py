"""Index versions on every machine: each complete version is published to the shared
database, and every replica fetches, verifies and serves the current one.

On PostgreSQL (`CHATBOT_DATABASE_URL`) a build, whether `chatbot ingest` or a re-index
through the editors' API, uploads its version directory as a tar archive in parts of at
most 8 MB, with the manifest and the archive's SHA-256, and makes it *the current
version* in the single-row table `index_current` in the same transaction. A rollback
sets that row too (uploading the version first if the database lacks it). Every
`generation` bump is a change every replica applies at its next index poll: it switches
to the version if its own index directory has it, or downloads the archive into a
staging directory there, checks size, hash, manifest and embedding model, and publishes
it with the same atomic rename and `CURRENT` switch as a local build; the server's hot
reload then serves it. A replica refuses (logs, reports, keeps serving what it has) a
version whose archive does not match its hash or that was built with another model.

A designation row rather than "the newest version" is what makes rollbacks reach every
replica; a generation counter rather than a timestamp means no replica compares clocks.
A replica applies a *change* of the designation (and the designation at start-up), so a
build on this machine that is not yet published is not switched back by the poller.

On SQLite (one machine) `LocalVersions` does nothing: replicas on that machine share
the index directory as before. Each poll also reports the replica's serving version,
which `chatbot index list` shows.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import socket
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from chatbot.config import Settings
from chatbot.errors import (
    ChatbotError,
    IndexIncompatibleError,
    IndexIntegrityError,
    IndexNotFoundError,
)
from chatbot.index.manifest import IndexManifest
from chatbot.index.store import IndexStore, read_manifest
from chatbot.storage import Database
from chatbot.storage.models import IndexCurrent, IndexReplica, IndexVersion, IndexVersionBlob

log = logging.getLogger(__name__)

PART_BYTES = 8 * 1024 * 1024
# Replicas that have not reported for this long are forgotten.
FORGET_REPLICAS_AFTER = timedelta(days=1)
_LOCK_FILE = ".distribution.lock"
_VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# The width of published_by and set_by: who published is cut to fit, never refused.
_BY_CHARS = 200


@dataclass(frozen=True)
class CurrentVersion:
    """The version every replica should serve, as the database designates it."""

    version: str
    generation: int
    model_id: str
    content_sha256: str
    size: int
    set_at: datetime
    set_by: str


@dataclass(frozen=True)
class ReplicaStatus:
    replica_id: str
    index_dir: str
    serving_version: str | None
    model_id: str | None
    problem: str | None
    last_seen: datetime

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "last_seen": self.last_seen.isoformat(timespec="seconds")}


class VersionDistributor(Protocol):
    """Where complete index versions are shared between machines."""

    @property
    def shared(self) -> bool:
        """False: replicas share nothing beyond their (common) index directory."""

    def publish(self, store: IndexStore, version: str, *, by: str, keep: int,
                model_id: str | None = None) -> None:
        """Make `version` current on every replica, uploading it from `store` unless it
        is already published; keep the `keep` newest published versions (and the
        current one). IndexNotFoundError when neither has it (or it was removed
        meanwhile); IndexIncompatibleError when it was built with another model than
        `model_id`, the model the replicas run (every one would refuse it)."""

    def current(self) -> CurrentVersion | None: ...

    def fetch(self, version: str, destination: Path) -> None:
        """Write the version's archive to `destination`; IndexIntegrityError when it does
        not match its recorded size and hash."""

    def report(self, status: ReplicaStatus) -> None: ...

    def replicas(self) -> list[ReplicaStatus]: ...


class LocalVersions:
    """SQLite: nothing is shared; the index directory is the only source."""

    shared = False

    def publish(self, store: IndexStore, version: str, *, by: str, keep: int,
                model_id: str | None = None) -> None:
        return None

    def current(self) -> CurrentVersion | None:
        return None

    def fetch(self, version: str, destination: Path) -> None:
        raise IndexNotFoundError(f"index version {version} is not published anywhere")

    def report(self, status: ReplicaStatus) -> None:
        return None

    def replicas(self) -> list[ReplicaStatus]:
        return []


class DatabaseVersions:
    """Versions, the current designation and the replicas' reports in the database."""

    shared = True

    def __init__(self, database: Database, *, part_bytes: int = PART_BYTES) -> None:
        self.database = database
        self.part_bytes = part_bytes

    def _upsert(self, model: Any) -> Any:
        insert = (postgresql.insert if self.database.dialect == "postgresql"
                  else sqlite_dialect.insert)
        return insert(model)

    def publish(self, store: IndexStore, version: str, *, by: str, keep: int,
                model_id: str | None = None) -> None:
        by = by[:_BY_CHARS]
        with self.database.session() as session:
            row = session.get(IndexVersion, version)
            built_with = None if row is None else row.model_id
        if built_with is None and version not in store.versions():
            raise IndexNotFoundError(
                f"index version {version} is neither in {store.root} nor published")
        if built_with is None:
            built_with = read_manifest(store.root / version).model_id
        if model_id is not None and built_with != model_id:
            raise IndexIncompatibleError(
                f"index version {version} was built with model {built_with}, the configured "
                f"model is {model_id}: every replica would refuse it; not made current")
        if row is None:
            try:
                self._upload(store, version, by=by)
            except IntegrityError:
                log.info("index version %s was published meanwhile by another replica", version)
        self._designate(version, by=by)
        try:
            self._prune(keep)
        except (ChatbotError, SQLAlchemyError) as exc:  # a concurrent publish; next time
            log.warning("published index versions not pruned: %s", exc)

    def _upload(self, store: IndexStore, version: str, *, by: str) -> None:
        directory = store.root / version
        manifest = read_manifest(directory)
        with _archive(directory, store.root) as (archive, digest, size):
            parts = -(-size // self.part_bytes) or 1
            with self.database.write_session() as session, session.begin():
                session.add(IndexVersion(
                    version=version, model_id=manifest.model_id,
                    manifest=manifest.model_dump(mode="json"), content_sha256=digest,
                    size=size, parts=parts, created_at=datetime.now(UTC), published_by=by))
                session.flush()
                with archive.open("rb") as source:
                    for seq in range(parts):
                        # Core inserts: the parts do not stay in the session's memory.
                        session.execute(insert(IndexVersionBlob),
                                        {"version": version, "seq": seq,
                                         "data": source.read(self.part_bytes)})
        log.info("published index version %s (%d bytes in %d part(s), sha256 %s)",
                 version, size, parts, digest)

    def _designate(self, version: str, *, by: str) -> None:
        now = datetime.now(UTC)
        statement = self._upsert(IndexCurrent).values(
            id=1, version=version, generation=1, set_at=now, set_by=by)
        statement = statement.on_conflict_do_update(
            index_elements=[IndexCurrent.id],
            set_={"version": version, "generation": IndexCurrent.generation + 1,
                  "set_at": now, "set_by": by})
        try:
            with self.database.write_session() as session, session.begin():
                session.execute(statement)
        except IntegrityError as exc:  # removed by a concurrent publish's prune
            raise IndexNotFoundError(
                f"index version {version} was removed from the database meanwhile; not "
                f"made current (publish it again from an index directory that has it)"
            ) from exc

    def _prune(self, keep: int) -> None:
        with self.database.write_session() as session, session.begin():
            current = session.scalar(select(IndexCurrent.version))
            newest_first = list(session.scalars(
                select(IndexVersion.version).order_by(IndexVersion.created_at.desc(),
                                                      IndexVersion.version.desc())))
            stale = [v for v in newest_first[keep:] if v != current]
            if stale:
                session.execute(delete(IndexVersionBlob).where(IndexVersionBlob.version.in_(stale)))
                session.execute(delete(IndexVersion).where(IndexVersion.version.in_(stale)))
                log.info("removed published index versions %s", ", ".join(stale))

    def current(self) -> CurrentVersion | None:
        with self.database.session() as session:
            row = session.execute(
                select(IndexCurrent, IndexVersion)
                .join(IndexVersion, IndexVersion.version == IndexCurrent.version)).first()
        if row is None:
            return None
        designation, published = row
        return CurrentVersion(version=designation.version, generation=designation.generation,
                              model_id=published.model_id,
                              content_sha256=published.content_sha256, size=published.size,
                              set_at=designation.set_at, set_by=designation.set_by)

    def fetch(self, version: str, destination: Path) -> None:
        with self.database.session() as session:
            published = session.get(IndexVersion, version)
            if published is None:
                raise IndexNotFoundError(f"index version {version} is not published")
            digest = hashlib.sha256()
            size = 0
            with destination.open("wb") as out:
                for seq in range(published.parts):
                    data = session.scalar(select(IndexVersionBlob.data).where(
                        IndexVersionBlob.version == version, IndexVersionBlob.seq == seq))
                    if data is None:
                        raise IndexIntegrityError(
                            f"index version {version} lacks part {seq + 1} of "
                            f"{published.parts}; not installed")
                    digest.update(data)
                    size += len(data)
                    out.write(data)
        if size != published.size or digest.hexdigest() != published.content_sha256:
            raise IndexIntegrityError(
                f"index version {version} as downloaded ({size} bytes, sha256 "
                f"{digest.hexdigest()}) does not match what was published ({published.size} "
                f"bytes, sha256 {published.content_sha256}); not installed")

    def report(self, status: ReplicaStatus) -> None:
        values = {"index_dir": status.index_dir, "serving_version": status.serving_version,
                  "model_id": status.model_id, "problem": status.problem,
                  "last_seen": status.last_seen}
        statement = self._upsert(IndexReplica).values(replica_id=status.replica_id, **values)
        statement = statement.on_conflict_do_update(index_elements=[IndexReplica.replica_id],
                                                    set_=values)
        with self.database.write_session() as session, session.begin():
            session.execute(statement)
            session.execute(delete(IndexReplica).where(
                IndexReplica.last_seen < status.last_seen - FORGET_REPLICAS_AFTER))

    def replicas(self) -> list[ReplicaStatus]:
        with self.database.session() as session:
            rows = session.scalars(select(IndexReplica).order_by(IndexReplica.replica_id))
            return [ReplicaStatus(replica_id=r.replica_id, index_dir=r.index_dir,
                                  serving_version=r.serving_version, model_id=r.model_id,
                                  problem=r.problem, last_seen=r.last_seen) for r in rows]


def shares_versions(settings: Settings) -> bool:
    """Whether replicas on several machines share index versions through the database."""
    from chatbot.storage.engine import normalise_url

    return normalise_url(settings.database_url).get_backend_name() == "postgresql"


def distributor_for(settings: Settings, database: Database | None) -> VersionDistributor:
    if database is not None and shares_versions(settings):
        return DatabaseVersions(database)
    return LocalVersions()


def valid_version_name(version: str) -> bool:
    """A plain directory name, as builds name versions: never a path."""
    return bool(_VERSION_NAME.fullmatch(version))


def replica_id(settings: Settings) -> str:
    return settings.replica_id or f"{socket.gethostname()}:{os.getpid()}"


def publish_build(distributor: VersionDistributor, store: IndexStore, version: str,
                  previous: str | None, *, by: str, keep: int, model_id: str) -> None:
    """After a local build made `version` current here: make it current everywhere. If
    that fails, this machine goes back to the version the database designates when it
    can tell and this directory has it (a replica may have installed a newer one while
    the build ran), else to `previous`; the build stays on disk, and the error says how
    to publish it later."""
    try:
        distributor.publish(store, version, by=by, keep=keep, model_id=model_id)
    except ChatbotError as exc:
        fallback = _designated_here(distributor, store) or previous
        if fallback is not None:
            store.switch(fallback)
        raise ChatbotError(
            f"index version {version} was built but not published to the other replicas "
            f"({exc}); {fallback or 'nothing'} stays current; publish it later with "
            f"`chatbot index rollback {version}`") from exc


def _designated_here(distributor: VersionDistributor, store: IndexStore) -> str | None:
    try:
        designation = distributor.current()
    except (ChatbotError, SQLAlchemyError):  # the database is down: the previous one
        return None
    if designation is None or designation.version not in store.versions():
        return None
    return designation.version


class ReplicaSync:
    """One serving process's side: apply the database's designation to the local index
    directory and report what this process serves."""

    def __init__(self, distributor: VersionDistributor, store: IndexStore, *, model_id: str,
                 replica: str, keep_versions: int) -> None:
        self.distributor = distributor
        self.store = store
        self.model_id = model_id
        self.replica = replica
        self.keep_versions = keep_versions
        self.applied_generation: int | None = None
        self.problem: str | None = None

    def sync(self) -> bool:
        """One poll: True when the local `CURRENT` moved. Refusals are logged once per
        designation, reported, and not retried until the designation changes. A local disk
        error (disk full, I/O error) is logged and reported but not a refusal, and a
        database that is down raises DatabaseUnavailableError: both are retried next poll."""
        if not self.distributor.shared:
            return False
        designation = self.distributor.current()
        if designation is None:
            self._bootstrap()
            return False
        if designation.generation == self.applied_generation:
            return False
        try:
            moved = self._apply(designation)
        except (IndexIntegrityError, IndexIncompatibleError) as exc:
            self.problem = str(exc)
            self.applied_generation = designation.generation
            log.error("index version %s refused: %s", designation.version, exc)
            return False
        except OSError as exc:  # disk full, I/O error: not the version's fault
            # Not recorded as applied: the next poll tries again.
            self.problem = f"index version {designation.version} not installed yet: {exc}"
            log.error("index version %s not installed, retried at the next poll: %s",
                      designation.version, exc)
            return False
        if moved is None:  # another process on this machine is installing it: next poll
            return False
        self.problem = None
        self.applied_generation = designation.generation
        return moved

    def report(self, serving_version: str | None) -> None:
        self.distributor.report(ReplicaStatus(
            replica_id=self.replica, index_dir=str(self.store.root.resolve()),
            serving_version=serving_version, model_id=self.model_id, problem=self.problem,
            last_seen=datetime.now(UTC)))

    def _bootstrap(self) -> None:
        """Nothing published yet (a fresh database, or the first start after an upgrade):
        publish this replica's current version, if it was built with this model."""
        version = self.store.current_version()
        if version is None or read_manifest(self.store.root / version).model_id != self.model_id:
            return
        log.info("no index version published yet: publishing %s", version)
        self.distributor.publish(self.store, version, by=self.replica, keep=self.keep_versions,
                                 model_id=self.model_id)

    def _apply(self, designation: CurrentVersion) -> bool | None:
        if not valid_version_name(designation.version):
            raise IndexIntegrityError(
                f"published index version name {designation.version!r} is not a plain "
                "name; not installed")
        if designation.model_id != self.model_id:
            raise IndexIncompatibleError(
                f"index version {designation.version} was built with model "
                f"{designation.model_id}, this replica runs {self.model_id}; not served")
        local = self.store.current_version()
        if local == designation.version:
            return False
        with _directory_lock(self.store.root) as locked:
            if not locked:
                return None
            if designation.version not in self.store.versions():
                self._download(designation)
            self.store.switch(designation.version)
        log.info("index version %s is current (generation %d, set by %s); was %s",
                 designation.version, designation.generation, designation.set_by,
                 local or "none")
        self.store.prune(self.keep_versions, protect={local} if local else set())
        return True

    def _download(self, designation: CurrentVersion) -> None:
        version = designation.version
        staging = self.store.staging_dir()
        try:
            # Marks the directory as alive for a concurrent prune.
            (staging / "builder.pid").write_text(str(os.getpid()), encoding="utf-8")
            archive = staging / ".archive.tar"
            self.distributor.fetch(version, archive)
            # Only a broken archive is a refusal (kept until the designation changes); an
            # OSError (disk full, I/O error) is this machine's problem and propagates, so
            # the next poll tries again.
            try:
                with tarfile.open(archive) as tar:
                    tar.extractall(staging, filter="data")
            except tarfile.TarError as exc:  # includes the data filter's refusals
                raise IndexIntegrityError(
                    f"index version {version}: the archive cannot be unpacked ({exc})") from exc
            archive.unlink()
            try:
                manifest = read_manifest(staging)
            except IndexNotFoundError as exc:
                raise IndexIntegrityError(
                    f"the archive of index version {version} holds no manifest; "
                    "not installed") from exc
            _check_manifest(manifest, designation, self.model_id)
            (staging / "builder.pid").unlink()
            self.store.publish(staging, version)  # rename, then switch
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        log.info("downloaded index version %s (%d bytes, sha256 verified)",
                 version, designation.size)


def _check_manifest(manifest: IndexManifest, designation: CurrentVersion, model_id: str) -> None:
    if manifest.version != designation.version:
        raise IndexIntegrityError(f"the archive of index version {designation.version} holds "
                                  f"version {manifest.version}; not installed")
    if manifest.model_id != model_id:
        raise IndexIncompatibleError(
            f"index version {manifest.version} was built with model {manifest.model_id}, "
            f"this replica runs {model_id}; not served")


@contextlib.contextmanager
def _archive(directory: Path, scratch: Path) -> Iterator[tuple[Path, str, int]]:
    """The version directory as an uncompressed tar (vectors do not compress), its
    SHA-256 and size; deleted afterwards."""
    handle, name = tempfile.mkstemp(prefix=".publish-", suffix=".tar", dir=scratch)
    os.close(handle)
    path = Path(name)
    try:
        with tarfile.open(path, "w") as tar:
            for item in sorted(directory.iterdir()):
                if item.name != "builder.pid":
                    tar.add(item, arcname=item.name)
        digest = hashlib.sha256()
        with path.open("rb") as source:
            for block in iter(lambda: source.read(1024 * 1024), b""):
                digest.update(block)
        yield path, digest.hexdigest(), path.stat().st_size
    finally:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def _directory_lock(root: Path) -> Iterator[bool]:
    """Without waiting: True when this process may install into `root` (workers of one
    machine share the directory and would otherwise download the same version twice)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / _LOCK_FILE).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = ["CurrentVersion", "DatabaseVersions", "LocalVersions", "ReplicaStatus",
           "ReplicaSync", "VersionDistributor", "distributor_for", "publish_build",
           "replica_id", "shares_versions", "valid_version_name"]
