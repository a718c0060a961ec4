"""Index versions shared through the database: publish, fetch, verify, refuse, roll back,
report in. On both databases (the logic is the same; only PostgreSQL turns it on for
servers), with small fake-embedder indexes; the two-server test is
test_replicas_postgres.py."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import logging
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from chatbot.cli import app
from chatbot.config import Settings, get_settings
from chatbot.errors import (
    ChatbotError,
    DatabaseUnavailableError,
    IndexIncompatibleError,
    IndexNotFoundError,
)
from chatbot.index import IndexStore, build_index
from chatbot.index.distribution import (
    DatabaseVersions,
    LocalVersions,
    ReplicaSync,
    distributor_for,
    publish_build,
    shares_versions,
)
from chatbot.storage import Database
from chatbot.storage.models import IndexVersion, IndexVersionBlob
from tests.conftest import FakeEmbedder


@pytest.fixture
def versions(database: Database) -> DatabaseVersions:
    # Small parts, so that even these tiny indexes are stored in several.
    return DatabaseVersions(database, part_bytes=4096)


@pytest.fixture
def build(write_article: Callable[..., Path], tmp_path: Path) -> Callable[..., str]:
    """Build a new version in tmp_path/a (the publishing replica); returns its name."""
    def run(body: str = "Den Pass beantragen Sie persönlich.",
            embedder: FakeEmbedder | None = None) -> str:
        write_article("reisepass", "de", body=f"## Antrag\n\n{body}")
        result = build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "a"),
                             embedder=embedder or FakeEmbedder())
        return result.manifest.version

    return run


def replica(versions: DatabaseVersions, root: Path, model_id: str = "fake-embedder"
            ) -> ReplicaSync:
    return ReplicaSync(versions, IndexStore(root), model_id=model_id, replica=root.name,
                       keep_versions=5)


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records
            if r.name == "chatbot.index.distribution" and r.levelno >= logging.ERROR]


def files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_a_published_version_reaches_another_index_directory(
        versions: DatabaseVersions, build: Callable[..., str], tmp_path: Path) -> None:
    first = build()
    versions.publish(IndexStore(tmp_path / "a"), first, by="test", keep=5)
    current = versions.current()
    assert current is not None
    assert (current.version, current.generation, current.model_id) == (first, 1, "fake-embedder")
    assert current.size > 3 * 4096  # several parts

    b = replica(versions, tmp_path / "b")
    assert b.sync() is True
    assert b.store.current_version() == first
    # Byte for byte the same files, nothing left over from the download.
    assert files(tmp_path / "b" / first) == files(tmp_path / "a" / first)
    assert [p.name for p in (tmp_path / "b").iterdir() if p.name.startswith(".building")] == []
    assert b.sync() is False  # nothing new

    second = build("Neu: auch online.")
    versions.publish(IndexStore(tmp_path / "a"), second, by="test", keep=5)
    assert b.sync() is True
    assert b.store.current_version() == second
    assert b.store.versions() == [first, second]

    b.report(second)
    [status] = versions.replicas()
    assert (status.replica_id, status.serving_version, status.problem) == ("b", second, None)
    assert status.index_dir == str((tmp_path / "b").resolve())


def test_a_rollback_reaches_every_replica(versions: DatabaseVersions,
                                          build: Callable[..., str], tmp_path: Path) -> None:
    first, second = build(), build("Neu: auch online.")
    a = IndexStore(tmp_path / "a")
    versions.publish(a, first, by="test", keep=5)
    b = replica(versions, tmp_path / "b")
    b.sync()
    versions.publish(a, second, by="test", keep=5)
    b.sync()
    # Rolling back designates the older version: not the newest, the designated one wins.
    versions.publish(a, first, by="rollback", keep=5)
    current = versions.current()
    assert current is not None
    assert (current.version, current.generation) == (first, 3)
    assert b.sync() is True
    assert b.store.current_version() == first


def test_a_corrupted_archive_is_refused_and_not_served(
        versions: DatabaseVersions, database: Database, build: Callable[..., str],
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first = build()
    a = IndexStore(tmp_path / "a")
    versions.publish(a, first, by="test", keep=5)
    b = replica(versions, tmp_path / "b")
    b.sync()
    second = build("Neu: auch online.")
    versions.publish(a, second, by="test", keep=5)
    with database.write_session() as session, session.begin():
        data = session.scalar(select(IndexVersionBlob.data).where(
            IndexVersionBlob.version == second, IndexVersionBlob.seq == 1))
        assert data is not None
        flipped = bytes([data[0] ^ 0xFF]) + data[1:]  # same size, one byte changed
        session.execute(update(IndexVersionBlob).where(
            IndexVersionBlob.version == second, IndexVersionBlob.seq == 1).values(data=flipped))

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="chatbot.index.distribution"):
        assert b.sync() is False
    assert b.store.current_version() == first  # still serving what it had
    assert b.store.versions() == [first]
    assert not [p for p in (tmp_path / "b").iterdir() if p.name.startswith(".building")]
    [record] = errors(caplog)
    assert f"index version {second} refused" in record.getMessage()
    assert "does not match what was published" in record.getMessage()
    assert b.problem is not None
    assert "sha256" in b.problem
    b.report(b.store.current_version())
    assert versions.replicas()[0].problem == b.problem

    # Not retried every poll (one error, not one per poll) ...
    caplog.clear()
    assert b.sync() is False
    assert errors(caplog) == []
    # ... but a new designation is applied, and clears the problem.
    third = build("Neu: auch per Post.")
    versions.publish(a, third, by="test", keep=5)
    assert b.sync() is True
    assert b.store.current_version() == third
    assert b.problem is None


def test_a_missing_part_is_refused(versions: DatabaseVersions, database: Database,
                                   build: Callable[..., str], tmp_path: Path) -> None:
    first = build()
    versions.publish(IndexStore(tmp_path / "a"), first, by="test", keep=5)
    with database.write_session() as session, session.begin():
        session.execute(delete(IndexVersionBlob).where(
            IndexVersionBlob.version == first, IndexVersionBlob.seq == 0))
    b = replica(versions, tmp_path / "b")
    assert b.sync() is False
    assert b.store.current_version() is None
    assert b.problem is not None
    assert "lacks part 1" in b.problem


def test_a_disk_error_while_unpacking_is_retried_not_refused(
        versions: DatabaseVersions, build: Callable[..., str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """ENOSPC is this machine's problem, not the version's: reported, logged, and the next
    poll tries again (a refusal would wait for the next publication)."""
    first = build()
    versions.publish(IndexStore(tmp_path / "a"), first, by="test", keep=5)
    b = replica(versions, tmp_path / "b")
    real_extractall = tarfile.TarFile.extractall

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tarfile.TarFile, "extractall", disk_full)
    with caplog.at_level(logging.ERROR, logger="chatbot.index.distribution"):
        assert b.sync() is False
    assert b.store.current_version() is None
    assert b.problem is not None
    assert "No space left on device" in b.problem
    assert "retried at the next poll" in caplog.text
    assert not [p for p in (tmp_path / "b").iterdir() if p.name.startswith(".building")]

    monkeypatch.setattr(tarfile.TarFile, "extractall", real_extractall)
    assert b.sync() is True  # the same designation, tried again
    assert b.store.current_version() == first
    assert b.problem is None


def _replace_archive(database: Database, version: str, members: dict[str, bytes],
                     part_bytes: int) -> None:
    """Store another archive for `version`, with a matching size and hash: only its
    content is wrong."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive = buffer.getvalue()
    parts = [archive[i:i + part_bytes] for i in range(0, len(archive), part_bytes)]
    with database.write_session() as session, session.begin():
        session.execute(delete(IndexVersionBlob).where(IndexVersionBlob.version == version))
        for seq, data in enumerate(parts):
            session.add(IndexVersionBlob(version=version, seq=seq, data=data))
        session.execute(update(IndexVersion).where(IndexVersion.version == version).values(
            size=len(archive), parts=len(parts),
            content_sha256=hashlib.sha256(archive).hexdigest()))


@pytest.mark.parametrize(("members", "problem"), [
    ({"chunks.txt": b"no manifest here"}, "holds no manifest"),
    ({"../outside.txt": b"escape"}, "cannot be unpacked"),
])
def test_an_archive_with_the_wrong_content_is_refused_once(
        versions: DatabaseVersions, database: Database, build: Callable[..., str],
        tmp_path: Path, members: dict[str, bytes], problem: str,
        caplog: pytest.LogCaptureFixture) -> None:
    first = build()
    versions.publish(IndexStore(tmp_path / "a"), first, by="test", keep=5)
    _replace_archive(database, first, members, versions.part_bytes)
    b = replica(versions, tmp_path / "b")
    assert b.sync() is False
    assert b.store.versions() == []
    assert b.problem is not None
    assert problem in b.problem
    assert not (tmp_path / "outside.txt").exists()
    caplog.clear()
    assert b.sync() is False  # a refusal: not downloaded again every poll
    assert errors(caplog) == []


def test_a_version_of_another_model_is_refused_before_downloading(
        versions: DatabaseVersions, build: Callable[..., str], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    first = build(embedder=FakeEmbedder(model_id="other-model"))
    versions.publish(IndexStore(tmp_path / "a"), first, by="test", keep=5)
    b = replica(versions, tmp_path / "b", model_id="fake-embedder")
    with caplog.at_level(logging.ERROR, logger="chatbot.index.distribution"):
        assert b.sync() is False
    assert b.store.current_version() is None
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
    assert "built with model other-model, this replica runs fake-embedder" in caplog.text


def test_an_archive_whose_manifest_names_another_model_is_refused(
        versions: DatabaseVersions, database: Database, build: Callable[..., str],
        tmp_path: Path) -> None:
    """The database row says one model, the archive's manifest another: the manifest that
    would be loaded decides."""
    first = build(embedder=FakeEmbedder(model_id="other-model"))
    versions.publish(IndexStore(tmp_path / "a"), first, by="test", keep=5)
    with database.write_session() as session, session.begin():
        session.execute(update(IndexVersion).values(model_id="fake-embedder"))
    b = replica(versions, tmp_path / "b", model_id="fake-embedder")
    assert b.sync() is False
    assert b.store.current_version() is None
    assert b.store.versions() == []
    assert b.problem is not None
    assert "built with model other-model" in b.problem


def test_the_first_replica_publishes_what_it_serves(
        versions: DatabaseVersions, build: Callable[..., str], tmp_path: Path) -> None:
    first = build()
    a = replica(versions, tmp_path / "a")
    assert versions.current() is None
    assert a.sync() is False  # it already serves it
    current = versions.current()
    assert current is not None
    assert current.version == first
    b = replica(versions, tmp_path / "b")
    assert b.sync() is True
    assert b.store.current_version() == first


def test_published_versions_are_pruned_but_never_the_current_one(
        versions: DatabaseVersions, database: Database, build: Callable[..., str],
        tmp_path: Path) -> None:
    a = IndexStore(tmp_path / "a")
    built = [build(f"Fassung {i}.") for i in range(4)]
    for version in built:
        versions.publish(a, version, by="test", keep=2)
    versions.publish(a, built[1], by="rollback", keep=2)  # uploaded again from disk
    with database.session() as session:
        kept = set(session.scalars(select(IndexVersion.version)))
        parts = set(session.scalars(select(IndexVersionBlob.version)))
    assert kept == parts == {built[1], built[3]}


def test_a_version_of_another_model_is_not_made_current(
        versions: DatabaseVersions, build: Callable[..., str], tmp_path: Path) -> None:
    a = IndexStore(tmp_path / "a")
    first = build()
    versions.publish(a, first, by="test", keep=5, model_id="fake-embedder")
    other = build(embedder=FakeEmbedder(model_id="other-model"))
    with pytest.raises(IndexIncompatibleError,
                       match="built with model other-model, the configured model is "
                             "fake-embedder: every replica would refuse it"):
        versions.publish(a, other, by="test", keep=5, model_id="fake-embedder")
    current = versions.current()
    assert current is not None
    assert current.version == first
    # Already in the database (published by a replica of the other model): refused too.
    versions.publish(a, other, by="other replica", keep=5)
    versions.publish(a, first, by="test", keep=5)
    with pytest.raises(IndexIncompatibleError, match="every replica would refuse it"):
        versions.publish(IndexStore(tmp_path / "empty"), other, by="test", keep=5,
                         model_id="fake-embedder")
    current = versions.current()
    assert current is not None
    assert current.version == first


def test_a_version_removed_meanwhile_is_a_clear_error(
        versions: DatabaseVersions, database: Database, build: Callable[..., str],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = IndexStore(tmp_path / "a")
    first, second = build(), build("Neu: auch online.")
    versions.publish(a, first, by="test", keep=5)
    versions.publish(a, second, by="test", keep=5)
    designate = versions._designate

    def after_a_concurrent_prune(version: str, *, by: str) -> None:
        with database.write_session() as session, session.begin():
            session.execute(delete(IndexVersion).where(IndexVersion.version == version))
        designate(version, by=by)

    monkeypatch.setattr(versions, "_designate", after_a_concurrent_prune)
    with pytest.raises(IndexNotFoundError, match=f"{first} was removed from the database "
                                                 "meanwhile"):
        versions.publish(IndexStore(tmp_path / "empty"), first, by="test", keep=5)
    current = versions.current()
    assert current is not None
    assert current.version == second


def test_a_failed_prune_is_only_logged(
        versions: DatabaseVersions, build: Callable[..., str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def conflicting(keep: int) -> None:
        raise IntegrityError("DELETE FROM index_versions", {}, Exception("still referenced"))

    monkeypatch.setattr(versions, "_prune", conflicting)
    first = build()
    with caplog.at_level(logging.WARNING, logger="chatbot.index.distribution"):
        versions.publish(IndexStore(tmp_path / "a"), first, by="test", keep=5)
    current = versions.current()
    assert current is not None
    assert current.version == first
    assert "published index versions not pruned" in caplog.text


def test_a_failed_publish_keeps_what_a_replica_installed_meanwhile(
        versions: DatabaseVersions, build: Callable[..., str], tmp_path: Path) -> None:
    """The build started on `zero`; while it ran, the poller installed the designated
    `first`: a failed publish goes back to `first`, not to `zero`."""
    store = IndexStore(tmp_path / "a")
    zero, first = build(), build("Neu: auch online.")
    versions.publish(store, first, by="another machine", keep=5)
    built = build(embedder=FakeEmbedder(model_id="other-model"))  # refused
    with pytest.raises(ChatbotError) as raised:
        publish_build(versions, store, built, zero, by="test", keep=5,
                      model_id="fake-embedder")
    assert isinstance(raised.value.__cause__, IndexIncompatibleError)
    assert f"{first} stays current" in str(raised.value)
    assert store.current_version() == first
    assert store.versions() == [zero, first, built]


def test_a_failed_publish_switches_this_machine_back(build: Callable[..., str],
                                                     tmp_path: Path) -> None:
    first = build()
    second = build("Neu: auch online.")
    store = IndexStore(tmp_path / "a")
    broken = DatabaseVersions(Database("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    with pytest.raises(ChatbotError) as raised:
        publish_build(broken, store, second, first, by="test", keep=5,
                      model_id="fake-embedder")
    assert isinstance(raised.value.__cause__, DatabaseUnavailableError)
    assert f"{first} stays current" in str(raised.value)
    assert f"chatbot index rollback {second}" in str(raised.value)
    assert store.current_version() == first
    assert store.versions() == [first, second]  # the build is kept


def test_a_long_publisher_name_is_cut_to_fit(versions: DatabaseVersions,
                                             build: Callable[..., str], tmp_path: Path) -> None:
    first = build()
    by = "editor@example.invalid on " + "w" * 300  # a long replica id
    versions.publish(IndexStore(tmp_path / "a"), first, by=by, keep=5)
    current = versions.current()
    assert current is not None
    assert current.set_by == by[:200]


def test_a_replica_id_leaves_room_for_the_worker_pid() -> None:
    assert Settings(replica_id="r" * 180).replica_id == "r" * 180
    with pytest.raises(ValueError, match="180"):
        Settings(replica_id="r" * 181)


def test_sqlite_keeps_the_local_behaviour(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert not shares_versions(settings)
    database = Database(settings.database_url)
    assert isinstance(distributor_for(settings, database), LocalVersions)
    database.dispose()
    assert shares_versions(Settings(database_url="postgresql://u@h/db"))
    sync = ReplicaSync(LocalVersions(), IndexStore(tmp_path / "b"), model_id="m", replica="b",
                       keep_versions=5)
    assert sync.sync() is False


# --- the CLI on PostgreSQL ---------------------------------------------------------------

@pytest.fixture
def postgres_env(postgres_migrated_url: str, monkeypatch: pytest.MonkeyPatch
                 ) -> Iterator[str]:
    from tests.conftest import _empty_postgres_tables

    _empty_postgres_tables(postgres_migrated_url)
    monkeypatch.setenv("CHATBOT_DATABASE_URL", postgres_migrated_url)
    monkeypatch.setenv("CHATBOT_EMBEDDING_MODEL", "fake-embedder")  # the test builds' model
    get_settings.cache_clear()
    yield postgres_migrated_url
    monkeypatch.delenv("CHATBOT_DATABASE_URL", raising=False)
    get_settings.cache_clear()


@pytest.mark.postgres
def test_rollback_and_list_on_postgresql(postgres_env: str, build: Callable[..., str],
                                         tmp_path: Path) -> None:
    first, second = build(), build("Neu: auch online.")
    database = Database(postgres_env)
    try:
        versions = DatabaseVersions(database)
        versions.publish(IndexStore(tmp_path / "a"), second, by="test", keep=5)
        b = replica(versions, tmp_path / "b")
        b.sync()
        b.report(second)

        runner = CliRunner()
        result = runner.invoke(app, ["index", "rollback", first, "--index",
                                           str(tmp_path / "a")])
        assert result.exit_code == 0, result.output
        current = versions.current()
        assert current is not None
        assert current.version == first
        assert current.set_by.startswith("chatbot index rollback on ")
        assert b.sync() is True  # uploaded by the rollback, fetched by the replica
        assert b.store.current_version() == first
        b.report(first)

        listed = runner.invoke(app, ["index", "list", "--index", str(tmp_path / "a")])
        assert listed.exit_code == 0, listed.output
        assert f"current on every replica: {first} (generation 2" in listed.stdout
        [row] = [line for line in listed.stdout.splitlines() if line.startswith("* b ")]
        assert row.split()[2] == first
        as_json = json.loads(runner.invoke(app, ["index", "replicas", "--json"]).stdout)
        assert as_json["current"]["version"] == first
        assert [(r["replica_id"], r["serving_version"]) for r in as_json["replicas"]] == [
            ("b", first)]

        # A version only the database has: designated, this machine's servers fetch it.
        result = runner.invoke(app, ["index", "rollback", second, "--index",
                                           str(tmp_path / "empty")])
        assert result.exit_code == 0, result.output
        assert "fetch it at their next index poll" in result.stdout
        unknown = runner.invoke(app, ["index", "rollback", "v19990101T000000000000Z",
                                            "--index", str(tmp_path / "a")])
        assert unknown.exit_code == 2
        assert "neither in" in unknown.stderr
        other = build("Anderes Modell.", embedder=FakeEmbedder(model_id="other-model"))
        refused = runner.invoke(app, ["index", "rollback", other, "--index",
                                      str(tmp_path / "a")])
        assert refused.exit_code == 2
        assert "built with model other-model, the configured model is fake-embedder" \
            in refused.stderr
        current = versions.current()
        assert current is not None
        assert current.version == second
    finally:
        database.dispose()


def test_replicas_command_on_sqlite_is_a_clear_error(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["index", "replicas"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "only on PostgreSQL" in result.stderr
