"""Safe publishing: a build that lost German versions or shrank too much is refused
unless forced, and recovering from a bad build re-embeds only what changed.

Real index builds with the deterministic fake embedder (it counts what it embeds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatbot.errors import PublishRefusedError
from chatbot.index import IndexStore, build_index
from chatbot.index.jobs import ReindexManager
from tests.conftest import FakeEmbedder

ARTICLE_IDS = ["reisepass", "personalausweis", "hund", "wohnsitz", "kita"]


def make_corpus(write_article) -> None:  # type: ignore[no-untyped-def]
    for article_id in ARTICLE_IDS:
        write_article(article_id, "de", body=f"## Antrag\n\n{article_id} beantragen Sie "
                      f"persönlich.\n\n## Gebühren\n\n{article_id} kostet {len(article_id)} Euro.")
        write_article(article_id, "en", title=article_id.title(),
                      body=f"## Application\n\nApply for {article_id} in person.")


def build(tmp_path: Path, embedder: FakeEmbedder | None = None, **kwargs):  # type: ignore[no-untyped-def]
    return build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "idx"),
                       embedder=embedder or FakeEmbedder(), **kwargs)


def break_front_matter(tmp_path: Path, article_id: str) -> None:
    path = tmp_path / "corpus" / "amt" / f"{article_id}.de.md"
    path.write_text(path.read_text(encoding="utf-8").replace("title:", "titel:"),
                    encoding="utf-8")


def remove_articles(tmp_path: Path, keep: int) -> None:
    for article_id in ARTICLE_IDS[keep:]:
        for path in (tmp_path / "corpus" / "amt").glob(f"{article_id}.*.md"):
            path.unlink()


def assert_nothing_published(tmp_path: Path, version: str) -> None:
    store = IndexStore(tmp_path / "idx")
    assert store.current_version() == version
    assert store.versions() == [version]
    assert not list((tmp_path / "idx").glob(".building-*"))


def test_a_lost_german_version_is_refused_and_named(write_article, tmp_path: Path) -> None:
    make_corpus(write_article)
    good = build(tmp_path).manifest.version
    break_front_matter(tmp_path, "reisepass")
    embedder = FakeEmbedder()
    # One German version of ten documents is well within the shrink share: the German
    # check alone refuses it, and before anything is embedded.
    with pytest.raises(PublishRefusedError) as refused:
        build(tmp_path, embedder)
    message = str(refused.value)
    assert "the German version of 1 article(s) is missing: reisepass (amt/reisepass.de.md: " \
           "missing field(s): title)" in message
    assert f"{good} stays current" in message
    assert "personalausweis" not in message
    assert embedder.embedded_passages == []
    assert_nothing_published(tmp_path, good)


def test_an_article_deleted_with_all_its_versions_counts_as_a_lost_german_version(
        write_article, tmp_path: Path) -> None:
    make_corpus(write_article)
    good = build(tmp_path).manifest.version
    remove_articles(tmp_path, keep=len(ARTICLE_IDS) - 1)
    with pytest.raises(PublishRefusedError, match=r"missing: kita$|missing: kita;"):
        build(tmp_path, max_shrink=1.0)
    assert_nothing_published(tmp_path, good)


def test_shrinking_beyond_the_share_is_refused_with_the_counts(write_article,
                                                             tmp_path: Path) -> None:
    make_corpus(write_article)
    good = build(tmp_path).manifest.version
    # English versions only: no German version is lost, but half the documents are.
    for path in (tmp_path / "corpus" / "amt").glob("*.en.md"):
        path.unlink()
    with pytest.raises(PublishRefusedError) as refused:
        build(tmp_path, max_shrink=0.2)
    message = str(refused.value)
    assert "language versions 10 -> 5 (-50%)" in message
    assert "CHATBOT_MAX_INDEX_SHRINK=0.2" in message
    assert "German" not in message
    assert "articles 5 -> 5" not in message
    assert_nothing_published(tmp_path, good)
    # Within a larger allowed share the same build is published.
    assert build(tmp_path, max_shrink=0.6).manifest.document_count == 5


def test_force_publishes_a_refused_build_and_the_manifest_says_so(write_article,
                                                                 tmp_path: Path) -> None:
    make_corpus(write_article)
    build(tmp_path)
    remove_articles(tmp_path, keep=1)
    with pytest.raises(PublishRefusedError, match="articles 5 -> 1 \\(-80%\\)"):
        build(tmp_path)
    forced = build(tmp_path, force=True)
    assert IndexStore(tmp_path / "idx").current_version() == forced.manifest.version
    assert forced.manifest.article_count == 1
    assert forced.manifest.forced is True
    # Forcing a build that would have passed anyway is not recorded as forced.
    assert build(tmp_path, force=True).manifest.forced is False


def test_the_first_build_is_never_refused(write_article, tmp_path: Path) -> None:
    write_article("reisepass", "en", title="Passport", body="A passport costs 70 euros.")
    result = build(tmp_path, max_shrink=0.0)
    assert IndexStore(tmp_path / "idx").current_version() == result.manifest.version
    assert result.manifest.forced is False


def test_recovery_from_a_forced_bad_build_embeds_nothing_new(write_article,
                                                            tmp_path: Path) -> None:
    make_corpus(write_article)
    good_embedder = FakeEmbedder()
    good = build(tmp_path, good_embedder, keep_versions=1)
    assert good.manifest.embedded_chunks == len(good_embedder.embedded_passages) > 0
    corpus = {p: p.read_bytes() for p in (tmp_path / "corpus").rglob("*.md")}

    remove_articles(tmp_path, keep=1)
    build(tmp_path, force=True, keep_versions=1)
    # The fix: the corpus as it was. Even with a single kept version, the version the
    # bad build replaced survived pruning, and its vectors serve the fixed build.
    for path, content in corpus.items():
        path.write_bytes(content)
    fixed_embedder = FakeEmbedder()
    fixed = build(tmp_path, fixed_embedder, keep_versions=1)
    assert fixed_embedder.embedded_passages == []
    assert (fixed.manifest.embedded_chunks, fixed.manifest.reused_chunks) == (
        0, good.manifest.chunk_count)


def test_the_editors_reindex_job_fails_with_the_reason_and_force_publishes(
        write_article, tmp_path: Path) -> None:
    from chatbot.config import Settings

    make_corpus(write_article)
    good = build(tmp_path).manifest.version
    break_front_matter(tmp_path, "hund")

    class Service:  # what the job uses of a SearchService
        embedder = FakeEmbedder()
        profile = type("Profile", (), {"label": None})()
        reloads = 0

        def reload(self) -> bool:
            Service.reloads += 1
            return True

    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "idx")
    manager = ReindexManager(settings)
    manager.start(Service(), requested_by="editor")  # type: ignore[arg-type]
    job = manager.wait(30)
    assert job is not None
    assert job.state == "failed"
    assert job.error is not None
    assert "the German version of 1 article(s) is missing: hund" in job.error
    assert "re-index with force" in job.error
    assert Service.reloads == 0
    assert_nothing_published(tmp_path, good)

    manager.start(Service(), force=True, requested_by="editor")  # type: ignore[arg-type]
    job = manager.wait(30)
    assert job is not None
    assert job.state == "succeeded", job
    assert job.force is True
    store = IndexStore(tmp_path / "idx")
    assert store.current_version() == job.version != good
    manifest = json.loads((store.current_dir() / "manifest.json").read_text())
    assert manifest["forced"] is True
