"""The model profile: every tuned number per embedding model, never another model's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chatbot.config import Settings
from chatbot.dialogue.policy import EVIDENCE_FEATURES, Evidence, ReplyType
from chatbot.embedding.bundled import bundled_model_id
from chatbot.evaluation.runner import profile_to_update
from chatbot.index import IndexStore, build_index
from chatbot.index.store import read_manifest
from chatbot.language import SUPPORTED_LANGUAGES, LanguageDetector
from chatbot.model_profile import (
    PROFILE_FILE,
    UNCALIBRATED_RANKER,
    ModelProfile,
    ModelProfileError,
    bundled_profile_dir,
    load_model_profile,
    profile_slug,
)
from chatbot.retrieval import ArticleHit
from chatbot.retrieval.features import FEATURE_NAMES
from chatbot.retrieval.service import SearchService


def hit(article_id: str, score: float) -> ArticleHit:
    return ArticleHit(article_id=article_id, lang="de", title=article_id, department="d",
                      score=score, snippet="", heading="", section="text", url=None,
                      appointment_service=None, dense=0.9, lexical=1.0, matched_lang="de")


def bundled() -> ModelProfile:
    return load_model_profile(bundled_model_id())


def test_the_bundled_model_has_a_complete_profile() -> None:
    profile = bundled()
    assert profile.calibrated
    assert profile.source.startswith("bundled ")
    assert profile.model_id == profile.policy.model_id == bundled_model_id()
    assert profile.query_centroids is not None
    assert set(profile.query_centroids.means) >= set(SUPPORTED_LANGUAGES)
    assert set(profile.ranker.weights) <= set(FEATURE_NAMES)
    assert set(profile.policy.weights) == set(EVIDENCE_FEATURES)
    assert profile.policy.suggest_min <= profile.policy.clarify_min <= profile.policy.answer_min
    assert 0.5 < profile.clustering_threshold < 1.0


def test_round_trip_keeps_every_number_and_the_digest_tracks_them(tmp_path: Path) -> None:
    profile = bundled()
    profile.save(tmp_path / "p")
    loaded = ModelProfile.load(tmp_path / "p")
    assert (loaded.ranker, loaded.policy, loaded.clustering_threshold) == (
        profile.ranker, profile.policy, profile.clustering_threshold)
    assert loaded.digest == profile.digest
    assert profile.replace(clustering_threshold=0.8).digest != profile.digest
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "profile.json", "query_centroids.npz"]


def test_a_configured_profile_wins_and_must_fit_the_model(tmp_path: Path) -> None:
    configured = tmp_path / "city"
    bundled().replace(clustering_threshold=0.9).save(configured)
    chosen = load_model_profile(bundled_model_id(), configured)
    assert (chosen.source, chosen.clustering_threshold) == (str(configured), 0.9)
    with pytest.raises(ModelProfileError, match=r"fitted for .*multilingual-e5-small"):
        load_model_profile("intfloat/multilingual-e5-large", configured)


def test_malformed_profiles_are_refused_with_the_directory(tmp_path: Path) -> None:
    shutil.copytree(bundled_profile_dir(bundled_model_id()), tmp_path / "p")
    document = json.loads((tmp_path / "p" / PROFILE_FILE).read_text(encoding="utf-8"))

    def refused(change: dict[str, object], match: str) -> None:
        (tmp_path / "p" / PROFILE_FILE).write_text(json.dumps({**document, **change}),
                                                   encoding="utf-8")
        with pytest.raises(ModelProfileError, match=match):
            ModelProfile.load(tmp_path / "p")

    refused({"policy": {**document["policy"], "model_id": "other"}}, "policy was fitted for")
    refused({"policy": {**document["policy"], "weights": {"score": 1.0}}}, "no weight for")
    refused({"ranker": {"weights": {"no_such_feature": 1.0}}}, "unknown features")
    refused({"clustering_threshold": 3}, "clustering_threshold")
    refused({"model_id": "other"}, "policy was fitted for")
    with pytest.raises(ModelProfileError, match=str(tmp_path / "missing")):
        ModelProfile.load(tmp_path / "missing")


def test_a_model_without_profile_is_uncalibrated_and_says_so(
        caplog: pytest.LogCaptureFixture) -> None:
    profile = load_model_profile("intfloat/multilingual-e5-large")
    assert "no model profile for the embedding model" in caplog.text
    assert not profile.calibrated
    assert profile.ranker == UNCALIBRATED_RANKER
    assert profile.query_centroids is None
    # Even overwhelming evidence is only suggested, never answered on its own.
    decision = profile.policy.decide([hit("a", 0.99), hit("b", 0.0)], "de")
    assert (decision.type, decision.evidence) == (ReplyType.ESCALATE, Evidence.WEAK)
    assert [h.article_id for h in decision.hits] == ["a"]


def test_search_uses_the_profile_of_its_model(fake_embedder, write_article,  # type: ignore[no-untyped-def]
                                              tmp_path: Path) -> None:
    write_article()
    store = IndexStore(tmp_path / "index")
    build_index(corpus_dir=tmp_path / "corpus", store=store, embedder=fake_embedder,
                model_profile="uncalibrated")
    assert read_manifest(store.current_dir()).model_profile == "uncalibrated"
    service = SearchService(embedder=fake_embedder, detector=LanguageDetector(),
                            index_root=store.root)
    assert service.profile.model_id == fake_embedder.model_id
    assert not service.profile.calibrated
    assert service.search("Pass beantragen", lang="de").hits[0].article_id == "reisepass"


def test_fits_write_into_the_configured_or_bundled_profile(tmp_path: Path) -> None:
    settings = Settings(model_profile=None)
    target, current = profile_to_update(settings, bundled_model_id(), None)
    assert target == bundled_profile_dir(bundled_model_id())
    assert current.calibrated
    fresh, new = profile_to_update(settings, "some/new-model", tmp_path / "new")
    assert fresh == tmp_path / "new"
    assert not new.calibrated
    bundled().save(tmp_path / "e5")
    with pytest.raises(ModelProfileError, match="not of the embedding model"):
        profile_to_update(settings, "some/new-model", tmp_path / "e5")
    assert profile_slug("intfloat/multilingual-e5-large") == "intfloat-multilingual-e5-large"
