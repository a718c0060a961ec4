"""BM25 indexes over the chunks: one per language (stemmed for that language) and one
over all chunks with folding only, for names and terms shared across languages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chatbot.index.lexical import analyze, analyze_query

LEXICAL_DIR = "bm25"
ALL_LANGUAGES = "all"


@dataclass
class LexicalIndex:
    """BM25 over a subset of chunks; `rows` maps its documents to chunk rows."""

    retriever: object
    rows: npt.NDArray[np.int64]
    lang: str | None

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        terms = analyze_query(query, self.lang)
        if not terms:
            return np.zeros(len(self.rows), dtype=np.float32)
        vocab = getattr(self.retriever, "vocab_dict", {})
        known = [t for t in terms if t in vocab]
        if not known:
            return np.zeros(len(self.rows), dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)  # type: ignore[attr-defined]


def build(directory: Path, texts: Sequence[tuple[str, str]]) -> None:
    import bm25s

    root = directory / LEXICAL_DIR
    groups: dict[str, list[int]] = {ALL_LANGUAGES: list(range(len(texts)))}
    for row, (_, lang) in enumerate(texts):
        groups.setdefault(lang, []).append(row)
    for name, rows in groups.items():
        analysed_as = None if name == ALL_LANGUAGES else name
        tokens = [analyze(texts[r][0], analysed_as) or ["\u2205"] for r in rows]
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        retriever.save(str(root / name))
        (root / name / "rows.json").write_text(json.dumps(rows), encoding="utf-8")


def load(directory: Path) -> dict[str, LexicalIndex]:
    import bm25s

    indexes = {}
    for path in sorted((directory / LEXICAL_DIR).iterdir()):
        rows = np.asarray(json.loads((path / "rows.json").read_text(encoding="utf-8")), np.int64)
        lang = None if path.name == ALL_LANGUAGES else path.name
        indexes[path.name] = LexicalIndex(bm25s.BM25.load(str(path)), rows, lang)
    return indexes
