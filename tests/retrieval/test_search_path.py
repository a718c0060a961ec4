"""Which search path a service takes: exhaustive below CHATBOT_TWO_STAGE_MIN_CHUNKS (the
chat policy was fitted on exhaustive scores), two-stage from it on."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.index.builder import build_index
from chatbot.index.store import IndexStore
from chatbot.language import LanguageDetector
from chatbot.retrieval.service import SearchService


@pytest.mark.parametrize(("min_chunks", "exhaustive", "expected"), [
    (1_000_000, False, True),   # a small index: every chunk is scored
    (0, False, False),          # two-stage at any size
    (1, False, False),          # the index has at least one chunk
    (0, True, True),            # CHATBOT_SEARCH_EXHAUSTIVE wins
])
def test_small_indexes_are_searched_exhaustively(
        tmp_path: Path, write_article, fake_embedder, min_chunks: int,  # type: ignore[no-untyped-def]
        exhaustive: bool, expected: bool) -> None:
    write_article("reisepass")
    write_article("personalausweis", body="## Antrag\n\nDen Ausweis beantragen Sie hier.")
    build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "idx"),
                embedder=fake_embedder)
    service = SearchService(embedder=fake_embedder, detector=LanguageDetector(),
                            index_root=tmp_path / "idx", exhaustive=exhaustive,
                            two_stage_min_chunks=min_chunks)
    retriever = service._retriever
    assert retriever is not None
    assert retriever.exhaustive is expected
    hits = service.search_hits("Reisepass beantragen", lang="de", top_k=2)
    assert {h.article_id for h in hits} == {"reisepass", "personalausweis"}
